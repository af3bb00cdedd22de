"""IdMap: a patched map holds what a dict given the same changes holds, and
the map it came from is left as it was."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from switchyard.config_api.routing.idmap import IdMap

ids = st.integers(0, 5000)  # a few shards of 1,024


@settings(max_examples=200, deadline=None)
@given(
    start=st.dictionaries(ids, st.integers()),
    removed=st.lists(ids),
    added=st.lists(st.tuples(ids, st.integers())),
)
def test_patched_equals_a_dict_with_the_same_changes(
    start: dict[int, int], removed: list[int], added: list[tuple[int, int]]
) -> None:
    before = IdMap(start.items())
    after = before.patched(removed, added)
    expected = dict(start)
    for i in removed:
        expected.pop(i, None)
    expected.update(added)
    assert dict(after) == expected and len(after) == len(expected)
    assert sorted(after.values()) == sorted(expected.values())
    assert all((i in after) == (i in expected) for i in range(0, 5001, 7))
    assert dict(before) == start  # shared shards were not changed
