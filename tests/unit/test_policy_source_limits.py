"""The size and depth limits of pager.policy.source: aliases that expand or nest
past them are reported, and a text without aliases, which skips the walk that
measures them, could never have been over either."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pager.policy import source
from pager.policy.errors import PolicyIssue


def _read(tmp_path: Path, text: str) -> tuple[source.SourceFile | None, list[PolicyIssue]]:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    issues: list[PolicyIssue] = []
    return source.read_source(path, "policy.yaml", issues), issues


def test_aliases_that_expand_past_the_limit_are_reported(tmp_path: Path) -> None:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 7)]
    found, issues = _read(tmp_path, "\n".join(lines) + "\n")
    assert found is None
    assert len(issues) == 1
    said = issues[0].message
    assert said.startswith("aliases expand to ")
    assert int(said.split()[3]) > source.MAX_VALUES  # 10 ** 7 x's, and the keys and lists


def test_aliases_that_nest_past_the_limit_are_reported(tmp_path: Path) -> None:
    lines = ["l0: &l0 [x]"] + [f"l{i}: &l{i} [*l{i - 1}]" for i in range(1, source.MAX_DEPTH + 1)]
    found, issues = _read(tmp_path, "\n".join(lines) + "\n")
    assert found is None
    assert [i.message for i in issues] == [
        f"aliases nest the data more than {source.MAX_DEPTH} levels deep"
    ]


def test_aliases_within_the_limits_are_read(tmp_path: Path) -> None:
    found, issues = _read(tmp_path, "a: &a [x, y]\nb: *a\nc: {<<: {k: v}, d: *a}\n")
    assert issues == []
    assert found is not None
    assert found.data == {"a": ["x", "y"], "b": ["x", "y"], "c": {"k": "v", "d": ["x", "y"]}}


scalars = st.one_of(st.integers(), st.booleans(), st.none(), st.text(max_size=8))
trees = st.recursive(
    scalars,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=5), st.just("<<")), kids, max_size=4),
    ),
    max_leaves=60,
)


@settings(max_examples=200, deadline=None)
@given(trees, st.booleans())
def test_without_aliases_the_walk_cannot_find_a_limit_passed(data: Any, flow: bool) -> None:
    """What read_source assumes when it skips _measure for a text with no "*":
    the walk's size is at most the nodes the composer made, and its depth at
    most the composer's limit (a text nested deeper fails to compose)."""
    text = yaml.safe_dump({"top": data}, default_flow_style=flow)
    if "*" in text:
        return  # an alias indicator (or a star in a scalar): the walk is not skipped
    loader, root = source._compose(text)
    try:
        assert root is not None
        size, depth = source._measure(root)
        assert size <= loader.composed
        assert depth <= source.MAX_DEPTH
    finally:
        loader.dispose()
