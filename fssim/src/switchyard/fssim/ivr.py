"""The ``ivr`` application: mod_dptools' ivr_application_function and switch_ivr_menu.c.

The app fetches ``ivr.conf`` (mod_xml_curl, a configuration fetch carrying
``Menu-Name`` and the channel's data), builds the named menu and every menu
its ``menu-sub`` entries name from that one document, and runs it:
greeting, digits, the matching entries, invalid sound, failures and
timeouts, exit sound -- in switch_ivr_menu_execute's order and with its
defaults and quirks (a menu without a greeting collects nothing; every
matching entry runs, not just the first; ``menu-top`` unwinds to the first
menu). Not simulated: ``pin``, ``confirm-macro``, TTS and phrase rendering
(``say:`` and ``phrase:`` sounds "play" like files).
"""

from __future__ import annotations

import asyncio
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from enum import Enum

from switchyard.fssim.argv import atoi
from switchyard.fssim.channel import Channel
from switchyard.fssim.dialplan import expand
from switchyard.fssim.executor import Executor
from switchyard.fssim.media import play_file

log = logging.getLogger("switchyard.fssim.ivr")

CONF = "ivr.conf"
ACTIONS = frozenset(
    {"menu-exit", "menu-sub", "menu-exec-app", "menu-play-sound", "menu-back", "menu-top"}
)
MAX_DEPTH = 12  # switch_ivr_menu_execute: "Too many levels of recursion."


class Status(Enum):
    SUCCESS = "success"
    FALSE = "false"
    BREAK = "break"
    TIMEOUT = "timeout"


@dataclass
class Entry:
    action: str
    bind: str
    arg: str

    @property
    def regex(self) -> bool:
        return self.bind.startswith("/")


@dataclass
class Menu:
    name: str
    greet_long: str
    greet_short: str
    invalid_sound: str
    exit_sound: str
    timeout: int
    inter_timeout: int
    digit_len: int
    max_failures: int
    max_timeouts: int
    exec_on_max_failures: str
    exec_on_max_timeouts: str
    tts_engine: str
    tts_voice: str
    top: bool
    entries: list[Entry] = field(default_factory=list)


def find_menus(document: str) -> ET.Element | None:
    """``<menus>`` of ``<configuration name="ivr.conf">`` in a fetched document."""
    root = ET.fromstring(document)  # noqa: S314 - the operator's own configuration server
    for section in root.iter("section"):
        if section.get("name") != "configuration":
            continue
        for cfg in section.iter("configuration"):
            if cfg.get("name") == CONF:
                return cfg.find("menus")
    return None


def build(menus: ET.Element, xml_menu: ET.Element, stack: dict[str, Menu]) -> bool:
    """switch_ivr_menu_stack_xml_build: ``xml_menu`` and, depth first, the menus it enters.

    False (FreeSWITCH: "Unable to build xml menu") when an entry has an
    unknown action or no digits; the whole menu is then unusable.
    """
    timeout = atoi(xml_menu.get("timeout"))
    max_failures = xml_menu.get("max-failures") or ""
    max_timeouts = xml_menu.get("max-timeouts") or max_failures
    menu = Menu(
        name=xml_menu.get("name", ""),
        greet_long=xml_menu.get("greet-long") or "",
        greet_short=xml_menu.get("greet-short") or "",
        invalid_sound=xml_menu.get("invalid-sound") or "",
        exit_sound=xml_menu.get("exit-sound") or "",
        # switch_ivr_menu_init halves the raw timeout before defaulting it to 10 s.
        timeout=timeout if timeout > 0 else 10000,
        inter_timeout=atoi(xml_menu.get("inter-digit-timeout")) or timeout // 2,
        digit_len=atoi(xml_menu.get("digit-len")),
        max_failures=atoi(max_failures) if atoi(max_failures) > 0 else 3,
        max_timeouts=atoi(max_timeouts) if atoi(max_timeouts) > 0 else 3,
        exec_on_max_failures=xml_menu.get("exec-on-max-failures") or "",
        exec_on_max_timeouts=xml_menu.get("exec-on-max-timeouts") or "",
        tts_engine=xml_menu.get("tts-engine") or "",
        tts_voice=xml_menu.get("tts-voice") or "",
        top=not stack,
    )
    stack.setdefault(menu.name, menu)
    for xml_entry in xml_menu.findall("entry"):
        action = xml_entry.get("action") or ""
        digits = xml_entry.get("digits") or ""
        param = xml_entry.get("param") or ""
        if action not in ACTIONS or not digits:
            log.warning("Invalid Action [%s]", action)
            return False
        if action == "menu-sub" and param not in stack:
            sub = next((m for m in menus.findall("menu") if m.get("name") == param), None)
            if sub is not None and not build(menus, sub, stack):
                return False
        menu.entries.append(Entry(action, digits, param))
        if not digits.startswith("/"):
            menu.digit_len = max(menu.digit_len, len(digits))
    return True


async def run(ex: Executor, ch: Channel, data: str) -> str:
    """The ``ivr <menu>`` app."""
    node = ex.core
    name = data.strip()
    params = node.event("REQUEST_PARAMS", "mod_dptools.c", "ivr_application_function", 2164)
    params.add("Menu-Name", name)
    ch.add_basic_data(params, with_vars=True)
    binding = node.bound_xml()
    document = None
    if binding is not None:  # switch_xml_open_cfg(ivr.conf)
        document = await binding.fetch(
            "configuration", params, tag_name="configuration", key_name="name", key_value=CONF
        )
    menus = None
    if document is not None:
        try:
            menus = find_menus(document)
        except ET.ParseError:
            menus = None
    if menus is None:
        # fssim has no static ivr.conf to fall back to.
        log.error("open of %s failed", CONF)
        return "_none_"
    xml_menu = next((m for m in menus.findall("menu") if m.get("name") == name), None)
    if xml_menu is None:
        log.error("Unable to find menu")
        return "_none_"
    stack: dict[str, Menu] = {}
    if not build(menus, xml_menu, stack):
        log.error("Unable to create menu")
        return "_none_"
    reads, ch.reads_dtmf = ch.reads_dtmf, True
    try:
        await MenuRun(ex, ch, stack).execute(name)
    finally:
        ch.reads_dtmf = reads
    return "_none_"


class MenuRun:
    """One ``ivr`` app's walk through its menu stack (switch_ivr_menu_execute)."""

    def __init__(self, ex: Executor, ch: Channel, stack: dict[str, Menu]) -> None:
        self.ex, self.node, self.ch, self.stack = ex, ex.core, ch, stack
        self.depth = 0
        self.fall_to_main = False

    async def execute(self, name: str) -> Status:
        self.depth += 1
        try:
            menu = self.stack.get(name)
            if self.depth > MAX_DEPTH or menu is None:
                log.error("Invalid Menu!")
                return Status.FALSE
            return await self._loop(menu)
        finally:
            self.depth -= 1

    async def _loop(self, menu: Menu) -> Status:
        ch = self.ch
        self._tts(menu)
        ch.variables["ivr_menu_status"] = "success"
        reps = errs = timeouts = 0
        running, status = True, Status.SUCCESS
        while running and status is Status.SUCCESS:
            if ch.interrupted:
                break
            if errs == menu.max_failures:
                ch.variables["ivr_menu_status"] = "failure"
                await self._exec_app(menu.exec_on_max_failures)
                break
            if timeouts == menu.max_timeouts:
                ch.variables["ivr_menu_status"] = "timeout"
                await self._exec_app(menu.exec_on_max_timeouts)
                break
            greeting = menu.greet_short if reps > 0 and menu.greet_short else menu.greet_long
            got, buf = await self._play_and_collect(menu, greeting, menu.digit_len)
            reps += 1
            if got is Status.TIMEOUT and not buf:
                timeouts += 1
                continue
            matched = 0
            if buf:
                for entry in menu.entries:
                    ok, arg = _match(entry, buf)
                    if not ok:
                        continue
                    matched += 1
                    errs = 0
                    self._tts(menu)
                    if entry.action == "menu-exit":
                        status = Status.FALSE
                    elif entry.action == "menu-play-sound":
                        played, _ = await play_file(self.node, ch, arg, "none")
                        status = Status.SUCCESS if played else Status.FALSE
                    elif entry.action == "menu-sub":
                        if arg != menu.name:
                            reps = 0
                            status = await self.execute(arg)
                        else:
                            status = Status.SUCCESS
                    elif entry.action == "menu-exec-app":
                        status = Status.SUCCESS if await self._exec_app(arg) else Status.FALSE
                    elif entry.action == "menu-back":
                        running, status = False, Status.SUCCESS
                    elif entry.action == "menu-top":
                        self.fall_to_main, status = True, Status.BREAK
                if menu.top and self.fall_to_main:
                    self.fall_to_main, status, running = False, Status.SUCCESS, True
                    continue
            if not matched:
                if buf and menu.invalid_sound:
                    await self._play_and_collect(menu, menu.invalid_sound, 0)
                errs += 1
                if status is Status.BREAK:
                    status = Status.SUCCESS
        if self.depth == 1 and menu.exit_sound and not ch.interrupted:
            status, _ = await self._play_and_collect(menu, menu.exit_sound, 0)
        return status

    def _tts(self, menu: Menu) -> None:
        if menu.tts_engine and menu.tts_voice:
            self.ch.variables["tts_engine"] = menu.tts_engine
            self.ch.variables["tts_voice"] = menu.tts_voice

    async def _play_and_collect(self, menu: Menu, sound: str, need: int) -> tuple[Status, str]:
        if not sound:
            return Status.FALSE, ""
        path = expand(self.ch, sound, self.node)
        if not need:
            played, _ = await play_file(self.node, self.ch, path, "break")
            return (Status.SUCCESS if played else Status.BREAK), ""
        played, buf = await play_file(self.node, self.ch, path, "collect")
        status = Status.SUCCESS if played else Status.BREAK
        if self.ch.interrupted:
            return Status.FALSE, buf
        if len(buf) < need:
            status, buf = await self._collect(
                menu, buf, need, menu.inter_timeout if buf else menu.timeout
            )
        return status, buf

    async def _collect(self, menu: Menu, buf: str, need: int, first: int) -> tuple[Status, str]:
        """switch_ivr_collect_digits_count: until ``need`` digits, a terminator or a timeout.

        ``first`` ms for the first digit, ``inter_timeout`` between digits,
        ``timeout`` for the whole collection (0: no limit of that kind).
        """
        ch, loop = self.ch, asyncio.get_running_loop()
        terminators = ch.variables.get("ivr_menu_terminator") or "#"
        started = last = loop.time()
        wait_ms = first or menu.inter_timeout
        while not ch.interrupted:
            limits = [started + menu.timeout / 1000]
            if wait_ms:
                limits.append(last + wait_ms / 1000)
            left = min(limits) - loop.time()
            if left <= 0:
                return Status.TIMEOUT, buf
            if not await ch.wait_dtmf(left):
                continue
            while ch.dtmf:
                digit = self.node.read_dtmf(ch) or ""
                if digit in terminators:
                    return Status.SUCCESS, buf
                buf += digit
                if len(buf) >= need:
                    return Status.SUCCESS, buf
            last, wait_ms = loop.time(), menu.inter_timeout
        return Status.FALSE, buf

    async def _exec_app(self, line: str) -> bool:
        app, _, data = line.strip().partition(" ")
        if not app or app.lower() not in self.ex.apps:
            return False
        # The app reads digits its own way (a bridge passes them on), not the menu.
        reads, self.ch.reads_dtmf = self.ch.reads_dtmf, False
        try:
            await self.ex.execute(self.ch, app, expand(self.ch, data, self.node))
        finally:
            self.ch.reads_dtmf = reads
        return True


def _match(entry: Entry, buf: str) -> tuple[bool, str]:
    """An entry's digits against what was keyed: exact, or ``/regex/`` with $N in its param."""
    if not entry.regex:
        return buf == entry.bind, entry.arg
    body = entry.bind[1:]
    pattern, _, opts = body.rpartition("/") if "/" in body else (body, "", "")
    flags = (re.IGNORECASE if "i" in opts else 0) | (re.DOTALL if "s" in opts else 0)
    try:
        m = re.search(pattern, buf, flags)
    except re.error:
        return False, entry.arg
    if m is None:
        return False, entry.arg
    groups = [m.group(0), *m.groups()]
    arg = re.sub(
        r"\$(\d)",
        lambda g: (groups[int(g.group(1))] or "") if int(g.group(1)) < len(groups) else "",
        entry.arg,
    )
    return True, arg
