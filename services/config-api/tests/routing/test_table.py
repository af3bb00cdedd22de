"""A context table patched with a write selects as one built from scratch
over the same routes (the incremental reload keeps patched tables)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from switchyard.config_api.routing.model import Route
from switchyard.config_api.routing.table import ContextTable

PREFIXES = ["", "1", "10", "100", "2", "20", "555"]
NUMBERS = ["1", "10", "100", "1000", "10001", "2", "20", "2000", "555", "5551", "9"]


def routes(first_id: int) -> st.SearchStrategy[list[Route]]:
    """Up to 12 routes, ids from ``first_id``, prefixes shared and nested."""
    shape = st.tuples(st.sampled_from(PREFIXES), st.integers(1, 6), st.booleans())
    return st.lists(shape, max_size=12).map(
        lambda shapes: [
            Route(first_id + k, "r", "FS_DEST_IP", prefix=p, max_length=n, disabled=d)
            for k, (p, n, d) in enumerate(shapes)
        ]
    )


def _fields(r: Route) -> dict[str, object]:
    return {f: getattr(r, f) for f in Route.__struct_fields__}


def same(a: ContextTable, b: ContextTable) -> None:
    for number in NUMBERS:
        assert a.select(number) == b.select(number), number
        assert a.candidates(number) == b.candidates(number), number
    assert len(a) == len(b) and a.disabled_count == b.disabled_count


@settings(max_examples=300, deadline=None)
@given(
    before=routes(1),
    added=routes(100),
    data=st.data(),
)
def test_a_patched_table_selects_as_a_fresh_one(
    before: list[Route], added: list[Route], data: st.DataObject
) -> None:
    gone = data.draw(st.lists(st.sampled_from(before), unique_by=lambda r: r.id)) if before else []
    # An edited route is gone as it was and added as it is now (same id).
    edited = [
        Route(**{**_fields(r), "prefix": data.draw(st.sampled_from(PREFIXES))})
        for r in gone[: len(gone) // 2]
    ]
    table = ContextTable(before)
    patched = table.patched(gone, [*added, *edited])
    ids = {r.id for r in gone}
    now = [r for r in before if r.id not in ids] + added + edited
    same(patched, ContextTable(now))
    same(table, ContextTable(before))  # the original is left as it was
