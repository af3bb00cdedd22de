"""compile(snapshot) → Router; Router.lookup(...) → Decision.

The order of work for one call (docs/routing.md, "What a lookup does"):

1. Numbers with characters outside ``[A-Za-z0-9*#+._-]`` are refused: they
   would reach dial strings, where FreeSWITCH expands ``${…}`` (API calls)
   and reads ``,|[]@/`` as syntax.
2. DID: in a context with ``hotline_enabled``, a hotline's ``line_number``
   rings its extension.
3. Func codes: when the caller is an extension of this context, a dialled
   number starting with an enabled ``func_code`` runs that feature with the
   digits after it as the argument. Callers from other contexts (a public
   SIP peer, say) never reach features such as eavesdrop.
4. Routes: the compiled table picks one (table.py). Then, in order: its
   blacklist; the caller extension's ``call_authority`` against the
   route's ``route_type``; the first active time rule (lowest id) replaces
   the destination; ``dnc`` rewrites the callee; the destination becomes
   actions; the caller number is set from the route's ``cid_number``, then
   the extension's DOD for the resource the call leaves through, then
   ``sdnc`` rewrites it; a gateway's own ``sdnc`` then rewrites it for
   that gateway's leg (``[origination_caller_id_number=…]``).

Nothing here does I/O; a Router is immutable and shared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from switchyard.config_api.routing.destinations import (
    Action,
    Condition,
    Plan,
    Resources,
    Target,
    plan,
)
from switchyard.config_api.routing.idmap import IdMap
from switchyard.config_api.routing.model import (
    Blacklist,
    Context,
    Dod,
    Extension,
    FuncCode,
    Hotline,
    Route,
    Snapshot,
    TimeRule,
)
from switchyard.config_api.routing.recurrence import Recurrence, parse_recurrence
from switchyard.config_api.routing.table import ContextTable
from switchyard.config_api.routing.transform import Transform, compile_transform
from switchyard.shared.fsvalues import (
    APPLICATIONS,
    CODECS,
    NO_EXPANSION,
    NUMBER,
    SCRIPT,
    Applications,
    UnsafeValue,
)

ROUTE_TYPES = ("emergency", "internal", "local", "domestic", "international")
LIST_TYPES = ("black", "white")
LIMITS = ("caller", "callee", "both")
# Route param pseudo-keys the CP editor offers: a script (by path) run with lua.
SCRIPT_PARAMS = frozenset({"uploaded_scripts", "inner_scripts"})


class Candidate(msgspec.Struct, frozen=True):
    route_id: int
    name: str
    prefix: str
    max_length: int
    taken: bool
    reason: str


class RuleCheck(msgspec.Struct, frozen=True):
    rule_id: int
    time_recurrence: str
    active: bool
    error: str = ""


class ListVerdict(msgspec.Struct, frozen=True):
    blacklist_id: int
    name: str
    list_type: str
    applies_to: str
    admitted: bool
    reason: str


class Step(msgspec.Struct, frozen=True):
    """One change to the callee or the caller number, and where it came from."""

    number: str  # "callee" or "caller"
    source: str  # dnc, sdnc, cid_number, dod, did, gateway_sdnc
    spec: str
    before: str
    after: str
    error: str = ""
    leg: str = ""  # gateway_sdnc: the gateway whose leg it applies to


class Decision(msgspec.Struct, frozen=True):
    """What a call does and why. ``outcome``: route, func_code, did,
    rejected, invalid or not_found (FreeSWITCH gets its not-found document)."""

    context: str
    dest_number: str
    caller_number: str
    at: str
    timezone: str
    outcome: str
    reason: str
    actions: tuple[Action, ...] = ()
    route_id: int | None = None
    route_name: str = ""
    func_code: str = ""
    dest_type: str = ""
    dest_uuid: str = ""
    body: str = ""
    callee: str = ""
    caller: str = ""
    module: str = ""
    stock: bool = True
    notes: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    time_rules: tuple[RuleCheck, ...] = ()
    time_rule_id: int | None = None
    blacklist: ListVerdict | None = None
    transformations: tuple[Step, ...] = ()
    # The document's conditions when what the call does depends on
    # FreeSWITCH state read at hunt time (a local extension's DND and
    # forwards); ``actions`` is then the path taken when none fires.
    conditions: tuple[Condition, ...] = ()

    @property
    def found(self) -> bool:
        return self.outcome != "not_found"


class CompiledRoute(msgspec.Struct, frozen=True):
    route: Route
    dnc: Transform | str | None  # str: why the spec was refused
    sdnc: Transform | str | None
    rules: tuple[tuple[TimeRule, Recurrence | str], ...]
    params: tuple[Action, ...]
    vars: tuple[Action, ...]


class Problem(msgspec.Struct, frozen=True):
    """Configuration the compiler had to refuse, for the API to report."""

    route_id: int
    field: str
    message: str


class Router:
    """One snapshot, compiled. Build a new one and swap the reference to
    change configuration; never mutate."""

    tz: ZoneInfo
    resources: Resources
    contexts: Mapping[str, Context]
    blacklists: Mapping[int, Blacklist]
    hotlines: Mapping[str, Hotline]
    extensions: Mapping[tuple[str, str], Extension]
    dods: Mapping[str, list[Dod]]
    func_codes: Mapping[str, FuncCode]
    _func_lengths: list[int]
    tables: Mapping[str, ContextTable]
    routes: IdMap[CompiledRoute]

    def __init__(
        self,
        snapshot: Snapshot,
        applications: Applications = APPLICATIONS,
        previous: Router | None = None,
        changed: frozenset[int] | None = None,
        fresh: tuple[Route, ...] = (),
    ) -> None:
        """``previous``, ``changed`` (the ids of the routes that differ from
        ``previous``'s snapshot) and ``fresh`` (those of them there are now):
        its compiled routes and context tables are kept where nothing they
        depend on changed."""
        self.snapshot = snapshot
        self.applications = applications
        self.problems: list[Problem] = []
        if (
            previous is not None
            and previous.applications == applications
            and _same_but_routes(previous.snapshot, snapshot)
        ):
            # Only routes changed (loader.assemble kept the rest as it was):
            # the indexes of the rest are previous's.
            self.tz, self.resources = previous.tz, previous.resources
            self.contexts, self.blacklists = previous.contexts, previous.blacklists
            self.hotlines, self.extensions = previous.hotlines, previous.extensions
            self.dods, self.func_codes = previous.dods, previous.func_codes
            self._func_lengths = previous._func_lengths
        else:
            self._index(snapshot, applications)
        tables_by_id = {t.id: t for t in snapshot.number_translations}
        if (
            previous is not None
            and changed is not None
            # What a compiled route depends on beside its own row.
            and previous.applications == applications
            and previous.snapshot.number_translations == snapshot.number_translations
        ):
            self._patch(previous, changed, fresh, tables_by_id)
            return
        members: dict[str, list[Route]] = {}
        for route in snapshot.routes:
            members.setdefault(route.context, []).append(route)
        self.tables = {c: ContextTable(r) for c, r in members.items()}
        self.routes = IdMap((r.id, self._compile_route(r, tables_by_id)) for r in snapshot.routes)

    def _index(self, snapshot: Snapshot, applications: Applications) -> None:
        self.tz = ZoneInfo(snapshot.timezone)
        self.resources = Resources.of(snapshot, applications)
        self.contexts = {c.key: c for c in snapshot.contexts}
        self.blacklists = {b.id: b for b in snapshot.blacklists}
        hotlines: dict[str, Hotline] = {}
        for h in sorted(snapshot.hotlines, key=lambda h: h.id, reverse=True):
            hotlines[h.line_number] = h  # lowest id wins
        self.hotlines = hotlines
        extensions: dict[tuple[str, str], Extension] = {}
        for e in sorted(snapshot.extensions, key=lambda e: e.id, reverse=True):
            extensions[(e.context, e.extn)] = e
        self.extensions = extensions
        dods: dict[str, list[Dod]] = {}
        for d in sorted(snapshot.dods, key=lambda d: d.id):
            dods.setdefault(d.extn, []).append(d)
        self.dods = dods
        self.func_codes = {
            f.func_code: f
            for f in sorted(snapshot.func_codes, key=lambda f: f.id, reverse=True)
            if not f.disabled and f.func_code
        }
        self._func_lengths = sorted({len(c) for c in self.func_codes}, reverse=True)

    def _patch(
        self,
        previous: Router,
        changed: frozenset[int],
        fresh: tuple[Route, ...],
        tables_by_id: Mapping[int, object],
    ) -> None:
        """Compile only the changed routes and patch only the prefixes they
        were or are under: a write among 100k routes costs what it wrote,
        not what its context holds (issue 12)."""
        gone = [previous.routes[i].route for i in changed if i in previous.routes]
        self.problems = [p for p in previous.problems if p.route_id not in changed]
        self.routes = previous.routes.patched(
            changed, [(r.id, self._compile_route(r, tables_by_id)) for r in fresh]
        )
        tables = dict(previous.tables)
        for context in {r.context for r in gone} | {r.context for r in fresh}:
            table = tables.get(context, ContextTable(())).patched(
                [r for r in gone if r.context == context],
                [r for r in fresh if r.context == context],
            )
            if len(table) or table.disabled_count:
                tables[context] = table
            else:
                tables.pop(context, None)
        self.tables = tables

    def _compile_route(self, route: Route, tables: Mapping[int, object]) -> CompiledRoute:
        def transform(field: str, spec: str) -> Transform | str | None:
            if not spec:
                return None
            try:
                return compile_transform(spec, tables)  # type: ignore[arg-type]
            except ValueError as exc:
                self.problems.append(Problem(route.id, field, str(exc)))
                return str(exc)

        rules: list[tuple[TimeRule, Recurrence | str]] = []
        for rule in sorted(route.time_rules, key=lambda r: r.id):
            try:
                rules.append((rule, parse_recurrence(rule.time_recurrence)))
            except ValueError as exc:
                self.problems.append(Problem(route.id, "time_recurrence", str(exc)))
                rules.append((rule, str(exc)))
        params = []
        for p in sorted(route.params, key=lambda p: (p.order, p.id)):
            if p.disabled:
                continue
            # A param that breaks the rules is left out of the call, never
            # passed on (and listed as the route's problem).
            try:
                if p.k in SCRIPT_PARAMS:
                    params.append(Action("lua", SCRIPT.check(f"params {p.k}", p.v)))
                else:
                    params.append(Action(*self.applications.check_action("params", p.k, p.v)))
            except UnsafeValue as exc:
                self.problems.append(Problem(route.id, exc.field, f"{p.k}: {exc.reason}"))
        variables = [Action("set", f"sy_route_id={route.id}")]
        if route.proxy_media:
            variables.append(Action("set", "proxy_media=true"))
        if route.media_codec and CODECS.ok(route.media_codec.strip()):
            codecs = ",".join(c.strip() for c in route.media_codec.split(",") if c.strip())
            variables.append(Action("export", f"absolute_codec_string={codecs}"))
        elif route.media_codec:
            self.problems.append(Problem(route.id, "media_codec", CODECS.reason))
        if route.route_type is not None:
            variables.append(Action("set", f"sy_route_type={route.route_type}"))
        if route.bill_rate:
            variables.append(Action("set", f"sy_bill_rate={route.bill_rate}"))
        if route.auto_record:
            path = "${recordings_dir}/auto-record-${strftime(%Y%m%d-%H%M%S)}-${uuid}.wav"
            variables.append(Action("set", f"auto_record_path={path}"))
            variables.append(Action("record_session", "${auto_record_path}"))
        return CompiledRoute(
            route=route,
            dnc=transform("dnc", route.dnc),
            sdnc=transform("sdnc", route.sdnc),
            rules=tuple(rules),
            params=tuple(params),
            vars=tuple(variables),
        )

    # --- lookup ----------------------------------------------------------------

    def lookup(
        self,
        context: str,
        dest_number: str,
        caller_number: str,
        at: datetime,
        *,
        explain: bool = False,
    ) -> Decision:
        base = Decision(
            context=context,
            dest_number=dest_number,
            caller_number=caller_number,
            at=at.isoformat(),
            timezone=self.snapshot.timezone,
            outcome="not_found",
            reason="",
            callee=dest_number,
            caller=caller_number,
        )
        if not NUMBER.ok(dest_number) or (caller_number and not NUMBER.ok(caller_number)):
            return _replace(
                base,
                outcome="invalid",
                reason="a number has characters that are not allowed in a dial string",
                actions=(Action("hangup", "INVALID_NUMBER_FORMAT"),),
            )
        table = self.tables.get(context)
        ctx = self.contexts.get(context)
        if ctx is not None and ctx.hotline_enabled:
            hotline = self.hotlines.get(dest_number)
            if hotline is not None:
                d = self._did(base, hotline)
                if explain and table is not None:
                    d = _preempted(d, table, f"DID {hotline.line_number}")
                return d
        caller_ext = self.extensions.get((context, caller_number)) if caller_number else None
        if caller_ext is not None and not caller_ext.disabled and self._func_lengths:
            for size in self._func_lengths:
                code = self.func_codes.get(dest_number[:size])
                if code is not None and len(dest_number) >= size:
                    d = self._func(base, code, dest_number[size:])
                    if explain and table is not None:
                        d = _preempted(d, table, f"func code {code.func_code}")
                    return d
        route = table.select(dest_number) if table is not None else None
        candidates = (
            _candidates(table.candidates(dest_number), route, len(dest_number))
            if explain and table is not None
            else ()
        )
        if route is None:
            reason = (
                f"no route of context {context!r} matches {dest_number!r}"
                if table is not None
                else f"context {context!r} has no routes"
            )
            return _replace(base, reason=reason, candidates=candidates)
        return self._route(base, self.routes[route.id], caller_ext, at, candidates)

    def _did(self, base: Decision, hotline: Hotline) -> Decision:
        ext = hotline.numbers.strip()
        step = Step("callee", "did", hotline.line_number, base.dest_number, ext)
        if not NUMBER.ok(ext):
            return _replace(
                base,
                outcome="invalid",
                reason=f"hotline {hotline.id} maps to {ext!r}, not a dialable extension",
                actions=(Action("hangup", "INVALID_NUMBER_FORMAT"),),
                transformations=(step,),
            )
        p = plan(Target("FS_DEST_USER", "", "", ext, context=base.context), self.resources)
        return _replace(
            base,
            outcome="did",
            reason=f"DID {hotline.line_number} rings extension {ext}",
            dest_type="FS_DEST_USER",
            callee=ext,
            actions=p.actions,
            module=p.module,
            transformations=(step,),
            conditions=_conditions(base.dest_number, (), p),
        )

    def _func(self, base: Decision, code: FuncCode, argument: str) -> Decision:
        p = plan(
            Target(
                code.func_type, "", "", base.dest_number, argument=argument, context=base.context
            ),
            self.resources,
        )
        return _with_plan(
            _replace(
                base,
                outcome="func_code",
                reason=f"func code {code.func_code} ({code.func_type})",
                func_code=code.func_code,
                dest_type=code.func_type,
            ),
            p,
            p.actions,
        )

    def _route(
        self,
        base: Decision,
        cr: CompiledRoute,
        caller_ext: Extension | None,
        at: datetime,
        candidates: tuple[Candidate, ...],
    ) -> Decision:
        route = cr.route
        # Time rules first: a call rejected below still reports their verdicts.
        checks = []
        active: TimeRule | None = None
        for rule, rec in cr.rules:
            if isinstance(rec, str):
                checks.append(RuleCheck(rule.id, rule.time_recurrence, False, rec))
                continue
            on = active is None and rec.active_at(at, self.tz)
            checks.append(RuleCheck(rule.id, rule.time_recurrence, on))
            if on:
                active = rule
        # An active time rule replaces the route's destination.
        dest: TimeRule | Route = active if active is not None else route
        d = _replace(
            base,
            outcome="route",
            reason=f"route {route.id} ({route.name})",
            route_id=route.id,
            route_name=route.name,
            candidates=candidates,
            dest_type=dest.dest_type,
            dest_uuid=dest.dest_uuid,
            body=dest.body,
            time_rule_id=active.id if active is not None else base.time_rule_id,
            time_rules=tuple(checks),
        )

        verdict = self._blacklist(route, base.caller_number, base.dest_number)
        if verdict is not None:
            d = _replace(d, blacklist=verdict)
            if not verdict.admitted:
                return _replace(
                    d,
                    outcome="rejected",
                    reason=verdict.reason,
                    actions=(Action("hangup", "CALL_REJECTED"),),
                )
        if (
            caller_ext is not None
            and route.route_type is not None
            and caller_ext.call_authority < route.route_type
        ):
            return _replace(
                d,
                outcome="rejected",
                reason=(
                    f"extension {caller_ext.extn} may call up to "
                    f"{_name(ROUTE_TYPES, caller_ext.call_authority)}; this route is "
                    f"{_name(ROUTE_TYPES, route.route_type)}"
                ),
                actions=(Action("hangup", "CALL_REJECTED"),),
            )

        steps: list[Step] = []
        actions: list[Action] = []
        callee = _apply(steps, "callee", "dnc", cr.dnc, route.dnc, base.dest_number)
        if route.dnc and callee != base.dest_number:
            actions += [
                Action("set", f"dnc={_shown(route.dnc)}"),
                Action("set", f"dnc_number={callee}"),
            ]
        argument = callee[len(route.prefix) :] if callee.startswith(route.prefix) else ""
        p = plan(
            Target(d.dest_type, d.dest_uuid, d.body, callee, argument, context=base.context),
            self.resources,
        )

        caller = base.caller_number
        if route.cid_number:
            steps.append(Step("caller", "cid_number", route.cid_number, caller, route.cid_number))
            caller = route.cid_number
        dod = self._dod(base.caller_number, p)
        if dod is not None:
            steps.append(Step("caller", "dod", str(dod.id), caller, dod.line_number))
            caller = dod.line_number
        caller = _apply(steps, "caller", "sdnc", cr.sdnc, route.sdnc, caller)
        for value, what in ((callee, "dnc"), (caller, "caller id")):
            if value and not NUMBER.ok(value):
                return _replace(
                    d,
                    outcome="invalid",
                    reason=f"{what} transformation produced {value!r}, not a dialable number",
                    actions=(Action("hangup", "INVALID_NUMBER_FORMAT"),),
                    transformations=tuple(steps),
                )
        if p.uses_caller:
            # Each gateway's sdnc rewrites the caller of its own leg.
            p = plan(
                Target(
                    d.dest_type,
                    d.dest_uuid,
                    d.body,
                    callee,
                    argument,
                    context=base.context,
                    caller=caller,
                ),
                self.resources,
            )
            steps += [
                Step("caller", "gateway_sdnc", c.spec, c.before, c.after, c.error, leg=c.gateway)
                for c in p.leg_callers
            ]
        if caller != base.caller_number:
            if route.sdnc:
                actions += [
                    Action("set", f"sdnc={_shown(route.sdnc)}"),
                    Action("set", f"sdnc_number={caller}"),
                ]
            actions.append(Action("set", f"effective_caller_id_number={caller}"))
        actions += cr.vars
        actions += cr.params
        d = _replace(
            d,
            callee=callee,
            caller=caller,
            transformations=tuple(steps),
            conditions=_conditions(base.dest_number, actions, p),
        )
        return _with_plan(d, p, (*actions, *p.actions))

    def _blacklist(self, route: Route, caller: str, callee: str) -> ListVerdict | None:
        if route.blacklist is None:
            return None
        bl = self.blacklists.get(route.blacklist)
        if bl is None:
            return None
        kind = _name(LIST_TYPES, bl.list_type)
        applies = _name(LIMITS, bl.limit_user_type)
        checked = {"caller": [caller], "callee": [callee], "both": [caller, callee]}.get(
            applies, [caller]
        )
        listed = [n for n in checked if any(n.startswith(p) for p in bl.numbers if p)]
        if bl.list_type == 1:
            # A whitelist admits a call only when every checked number is listed.
            missing = [n for n in checked if n not in listed]
            admitted = not missing
            reason = (
                f"whitelist {bl.name!r} lists the {applies}"
                if admitted
                else f"whitelist {bl.name!r} does not list {', '.join(missing)!r} ({applies})"
            )
        else:
            admitted = not listed
            reason = (
                f"blacklist {bl.name!r} does not list the {applies}"
                if admitted
                else f"blacklist {bl.name!r} lists {', '.join(listed)!r} ({applies})"
            )
        return ListVerdict(bl.id, bl.name, kind, applies, admitted, reason)

    def _dod(self, caller: str, p: Plan) -> Dod | None:
        if p.via is None or not caller:
            return None
        kind, ref = p.via
        for dod in self.dods.get(caller, ()):
            dod_kind = "TRUNK" if dod.type.upper() in ("TRUNK", "TRUNKS") else dod.type.upper()
            if dod_kind == kind and dod.ref_id == ref:
                return dod
        return None


def _same_but_routes(a: Snapshot, b: Snapshot) -> bool:
    """``b`` is ``a`` with other routes: every other part the same object."""
    return all(getattr(a, f) is getattr(b, f) for f in Snapshot.__struct_fields__ if f != "routes")


def compile(
    snapshot: Snapshot,
    applications: Applications = APPLICATIONS,
    previous: Router | None = None,
    changed: frozenset[int] | None = None,
    fresh: tuple[Route, ...] = (),
) -> Router:
    return Router(snapshot, applications, previous, changed, fresh)


def _shown(spec: str) -> str:
    """A transformation spec shown to FreeSWITCH as a variable (dnc=, sdnc=):
    set expands its data, so a spec that would expand (``${``) is not shown."""
    return spec if NO_EXPANSION.ok(spec) else "(not shown)"


def _replace(d: Decision, **changes: object) -> Decision:
    return msgspec.structs.replace(d, **changes)


def _with_plan(d: Decision, p: Plan, actions: tuple[Action, ...] | list[Action]) -> Decision:
    notes = [n for n in (p.note,) if n]
    if not p.stock:
        notes.insert(0, f"needs {p.module}, which stock FreeSWITCH does not have")
    if p.error:
        notes.insert(0, p.error)
    return _replace(
        d,
        actions=tuple(actions),
        module=p.module,
        stock=p.stock,
        notes=tuple(notes),
        reason=d.reason if not p.error else f"{d.reason}: {p.error}",
    )


def number_expression(number: str) -> str:
    """The dialled-number condition's regex: the number, literally."""
    return "^" + re.escape(number) + "$"


def _conditions(
    dialled: str, route_actions: list[Action] | tuple[Action, ...], p: Plan
) -> tuple[Condition, ...]:
    """A plan's document form, the route's actions first: field-less
    conditions become the dialled-number one (always true once the first
    has matched)."""
    if not p.conditions:
        return ()
    expression = number_expression(dialled)
    out = []
    for i, c in enumerate(p.conditions):
        if not c.field:
            lead = tuple(route_actions) if i == 0 else ()
            c = msgspec.structs.replace(
                c, field="destination_number", expression=expression, actions=(*lead, *c.actions)
            )
        out.append(c)
    if p.conditions[0].field and route_actions:
        out.insert(0, Condition("destination_number", expression, tuple(route_actions)))
    return tuple(out)


def _apply(
    steps: list[Step],
    which: str,
    source: str,
    compiled: Transform | str | None,
    spec: str,
    number: str,
) -> str:
    if compiled is None:
        return number
    if isinstance(compiled, str):
        steps.append(Step(which, source, spec, number, number, error=compiled))
        return number
    after = compiled.apply(number)
    steps.append(Step(which, source, spec, number, after))
    return after


def _name(names: tuple[str, ...], value: int) -> str:
    return names[value] if 0 <= value < len(names) else str(value)


def _preempted(d: Decision, table: ContextTable, what: str) -> Decision:
    """The routes a call answered before route selection would have considered."""
    number = d.dest_number
    listed = _candidates(table.candidates(number), table.select(number), len(number), what)
    return _replace(d, candidates=listed)


def _candidates(
    routes: list[Route], chosen: Route | None, size: int, preempted: str = ""
) -> tuple[Candidate, ...]:
    """Why each route was taken or skipped. ``preempted``: what answered the
    call before routes were consulted (a DID, a func code); ``chosen`` is
    then the route the call would otherwise have taken."""
    out = []
    for r in routes:
        if chosen is not None and r.id == chosen.id and preempted:
            reason, taken = f"would be first, but {preempted} answered the call", False
        elif chosen is not None and r.id == chosen.id:
            reason, taken = "first by max_length, then longest prefix, then id", True
        elif r.disabled:
            reason, taken = "disabled", False
        elif r.max_length < size:
            reason, taken = f"max_length {r.max_length} < number length {size}", False
        else:
            reason, taken = f"ranked after route {chosen.id if chosen else '?'}", False
        out.append(Candidate(r.id, r.name, r.prefix, r.max_length, taken, reason))
    return tuple(out)
