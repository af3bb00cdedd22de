"""``switchyard_fsxml_answers_total``: what ``/fs/xml`` answered, by section and outcome.

On every call's synchronous path, so the children are bound once and a
fetch costs one dict lookup and one increment. The section comes from
FreeSWITCH's form; any value but the three it sends counts as ``other``.
"""

from __future__ import annotations

from prometheus_client import Counter

from switchyard.shared.metrics import Metrics, known

SECTIONS = frozenset({"dialplan", "directory", "configuration"})
# found: a document; not_found: FreeSWITCH's not-found document (it falls
# back to its own files); unauthorized/forbidden: no or a wrong secret;
# refused: a method, or a body, no FreeSWITCH sends.
OUTCOMES = ("found", "not_found", "unauthorized", "forbidden", "refused")


class FsXmlMetrics:
    def __init__(self, metrics: Metrics) -> None:
        answers = metrics.counter(
            "fsxml_answers",
            "mod_xml_curl fetches answered, by section and outcome",
            ("section", "outcome"),
        )
        self._bound: dict[tuple[str, str], Counter] = {
            (section, outcome): answers.labels(section, outcome)
            for section in (*SECTIONS, "other", "none")
            for outcome in OUTCOMES
        }

    def count(self, section: str, outcome: str) -> None:
        """``section``: the form's, or ``none`` before the form is read."""
        self._bound[(known(section, SECTIONS) if section != "none" else section, outcome)].inc()
