"""tests/deploy/once.py: a build is done once, and one that failed is done again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.once import built_once


def test_the_second_caller_takes_the_first_build(tmp_path: Path) -> None:
    builds: list[Path] = []

    def build(into: Path) -> None:
        builds.append(into)
        (into / "artifact").write_text("built")

    first = built_once(tmp_path, "thing", build)
    second = built_once(tmp_path, "thing", build)

    assert first == second == tmp_path / "thing"
    assert builds == [first]
    assert (second / "artifact").read_text() == "built"


def test_a_build_that_failed_half_way_is_redone_from_empty(tmp_path: Path) -> None:
    def broken(into: Path) -> None:
        (into / "half").write_text("")
        raise RuntimeError("pip failed")

    with pytest.raises(RuntimeError, match="pip failed"):
        built_once(tmp_path, "thing", broken)

    found: list[list[str]] = []
    built = built_once(
        tmp_path, "thing", lambda into: found.append(sorted(p.name for p in into.iterdir()))
    )

    assert found == [[]]  # the half-built leftovers were cleared first
    assert built == tmp_path / "thing"
