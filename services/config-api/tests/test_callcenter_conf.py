"""callcenter.conf as /fs/xml serves it: queues, agents and tiers from the queue rows."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from switchyard.config_api.fsxml.documents import FsIndex
from switchyard.config_api.fsxml.model import CcMember, CcQueue, FsConfig


def _conf(index: FsIndex, **form: str) -> ET.Element:
    text = index.callcenter(form)
    assert text is not None
    cfg = ET.fromstring(text).find("section/configuration")  # noqa: S314 - our own document
    assert cfg is not None and cfg.get("name") == "callcenter.conf"
    return cfg


def test_queues_agents_and_tiers() -> None:
    index = FsIndex(
        FsConfig(
            domain="pbx.example",
            queues=(
                CcQueue(1, "630", strategy="top-down", max_wait_time_with_no_agent=3,
                        members=(CcMember("800", 0, 1), CcMember("801", 2, 2))),
                CcQueue(2, "631", agent_timeout=30, members=(CcMember("800"),)),
            ),
        )
    )  # fmt: skip
    cfg = _conf(index)
    queues = {q.get("name"): q for q in cfg.iterfind("queues/queue")}
    assert list(queues) == ["630@default", "631@default"]
    params = {p.get("name"): p.get("value") for p in queues["630@default"].iterfind("param")}
    assert params["strategy"] == "top-down"
    assert params["max-wait-time-with-no-agent"] == "3"
    assert params["moh-sound"] == "$${hold_music}"
    agents = {a.get("name"): a.attrib for a in cfg.iterfind("agents/agent")}
    # One agent per extension, ringing as long as its longest queue asks.
    assert agents["800@default"]["contact"] == "[leg_timeout=30]user/800@pbx.example"
    assert agents["801@default"]["contact"] == "[leg_timeout=20]user/801@pbx.example"
    assert all("status" not in a for a in agents.values())  # a reload keeps logins
    tiers = [(t.get("queue"), t.get("agent"), t.get("level"), t.get("position"))
             for t in cfg.iterfind("tiers/tier")]  # fmt: skip
    assert tiers == [
        ("630@default", "800@default", "1", "1"),
        ("630@default", "801@default", "3", "2"),
        ("631@default", "800@default", "1", "1"),
    ]


def test_a_queue_fetch_for_another_queue_is_not_found() -> None:
    index = FsIndex(FsConfig(queues=(CcQueue(1, "630"),)))
    assert index.callcenter({"CC-Queue": "630@default"}) is not None
    assert index.callcenter({"CC-Queue": "999@default"}) is None


def test_rows_that_break_the_rules_are_left_out() -> None:
    index = FsIndex(
        FsConfig(
            queues=(
                CcQueue(1, "bad name"),
                CcQueue(2, "630", moh_sound="$${password}", members=(CcMember("800"),)),
                CcQueue(3, "631", members=(CcMember("8}0"), CcMember("801"))),
            )
        )
    )
    cfg = _conf(index)
    assert [q.get("name") for q in cfg.iterfind("queues/queue")] == ["631@default"]
    assert [a.get("name") for a in cfg.iterfind("agents/agent")] == ["801@default"]
    assert {(p.resource, p.field) for p in index.problems} >= {
        ("callcenter_queue", "name"),
        ("callcenter_queue", "moh_sound"),
        ("callcenter_queue", "members.extn"),
    }
