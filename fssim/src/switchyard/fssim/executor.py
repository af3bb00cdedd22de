"""The call executor: a channel's routing, its dialplan's applications and the ones queued for it.

One object per node owns CS_ROUTING and CS_EXECUTE (switch_core_state_machine,
switch_core_session_exec): it routes a channel (again after each transfer),
runs the applications, runs the ones sendmsg and uuid_broadcast queue between
them, and keeps a leg without a dialplan (a bridged B leg) able to run them.
The applications, the ivr, originate and the API commands receive it to run a
nested application or route a new leg. It knows the applications only as the
table it is given, so nothing here imports them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from switchyard.fssim import dialplan
from switchyard.fssim.channel import Channel, now_us
from switchyard.fssim.core import Core, new_uuid

log = logging.getLogger("switchyard.fssim.apps")

App = Callable[["Executor", Channel, str], Awaitable[str]]


class Executor:
    def __init__(self, core: Core, apps: Mapping[str, App]) -> None:
        self.core = core
        self.apps = apps

    async def route(self, ch: Channel) -> None:
        """CS_ROUTING and CS_EXECUTE for ``ch``, again after each transfer; then hang up."""
        node = self.core
        while ch.is_up:
            ch.hit_dialplan = True
            node.set_running_state(ch, "CS_ROUTING")
            if ch.direction == "inbound":
                node.ai_state(ch)  # set_running_state marked it RINGING
            actions = await dialplan.lookup(node, ch)
            if not ch.is_up:
                return
            if actions is None:
                node.hangup(ch, "NO_ROUTE_DESTINATION")
                return
            node.sort_cid(ch)  # the extension is set: an originated leg's caller id flips
            node.set_running_state(ch, "CS_EXECUTE")
            await self.run_actions(ch, actions)
            if ch.transfer_to is not None and ch.is_up:
                apply_transfer(ch)
                continue
            if ch.intercepted:
                return  # bridged by intercept: its dialplan is over, the call is not
            if ch.is_up:
                node.hangup(ch, "NORMAL_CLEARING")

    async def run_actions(self, ch: Channel, actions: list[dialplan.Action]) -> None:
        for app, data in actions:
            await self.run_pending(ch)
            if ch.interrupted:
                return
            await self.execute(ch, app, dialplan.expand(ch, data, self.core))
        await self.run_pending(ch)

    async def run_pending(self, ch: Channel) -> None:
        """Apps queued by sendmsg / uuid_broadcast, run between other apps as FreeSWITCH does."""
        while ch.pending and not ch.interrupted:
            app, data, app_uuid = ch.pending.popleft()
            await self.execute(ch, app, data, app_uuid)

    async def execute(self, ch: Channel, app: str, data: str, app_uuid: str = "") -> None:
        node = self.core
        impl = self.apps.get(app.lower())
        if impl is None:
            log.warning("Invalid Application %s", app)
            return
        app_uuid = app_uuid or new_uuid()
        saved = (ch.application, ch.application_data, ch.variables.get("_app_uuid"))
        node.execute_event(ch, app, data, app_uuid)
        ch.variables["_executing"] = "1"
        ch.variables["_app_uuid"] = app_uuid
        response = await impl(self, ch, data)
        # A hangup during the app already reported its EXECUTE_COMPLETE.
        if ch.variables.pop("_executing", None) == "1" and ch.is_up:
            ch.variables.pop("_app_uuid", None)
            node.execute_event(ch, app, data, app_uuid, response=response)
        if saved[2] is not None and ch.is_up:
            # An app run from inside park: park is still the current application.
            ch.application, ch.application_data = saved[0], saved[1]
            ch.variables["_executing"] = "1"
            ch.variables["_app_uuid"] = saved[2]

    async def run_app(self, ch: Channel, app: str, data: str) -> None:
        """An originated leg told to run one app (``originate … &app(data)``), then hang up."""
        self.core.sort_cid(ch)  # mod_commands sets the app as its extension
        self.core.set_running_state(ch, "CS_EXECUTE")
        await self.execute(ch, app, data)
        await self.run_pending(ch)
        if ch.transfer_to is not None and ch.is_up:
            apply_transfer(ch)
            await self.route(ch)
        elif ch.is_up and not ch.intercepted:
            self.core.hangup(ch, "NORMAL_CLEARING")

    def queue(self, ch: Channel, app: str, data: str, app_uuid: str) -> None:
        """An app for ``ch`` to run between its others (sendmsg execute, uuid_broadcast)."""
        ch.pending.append((app, data, app_uuid))
        self.ensure_runner(ch)
        ch.wake()

    def ensure_runner(self, ch: Channel) -> None:
        """A channel running nothing (a bridged B leg) gets a task to run what is queued."""
        if ch.task is None or ch.task.done():
            self.core.spawn_app_session(ch, lambda: self.idle(ch))

    async def idle(self, ch: Channel) -> None:
        """A leg with no dialplan (a bridged B leg): it still runs queued apps until hung up."""
        while ch.is_up:
            await self.run_pending(ch)
            if ch.intercepted and ch.transfer_to is None:
                return  # bridged by intercept; it lives on in that bridge
            if ch.transfer_to is not None:
                ch.peer = None
                apply_transfer(ch)
                await self.route(ch)
                return
            await ch.pause(None)


def apply_transfer(ch: Channel) -> None:
    """switch_ivr_session_transfer: the new destination, dialplan and context."""
    assert ch.transfer_to is not None
    dest, dialplan_name, context = ch.transfer_to
    ch.transfer_to = None
    ch.intercepted = False  # a transfer gives an intercepted channel a dialplan again
    ch.profile.transfer_source = f"{ch.profile.destination_number}:{ch.uuid}:bl_xfer"
    ch.profile.destination_number = dest
    # A missing dialplan is the profile's, except that an inline one becomes
    # XML; a missing context is the profile's.
    if not dialplan_name and ch.profile.dialplan.lower() != "inline":
        dialplan_name = ch.profile.dialplan
    ch.profile.dialplan = dialplan_name or "XML"
    ch.profile.context = context or ch.profile.context or "default"
    ch.times["transfer"] = now_us()
