"""The fixture directories under policies/testdata, and the example policy itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from pager.policy.loader import PolicyError, load_policy

ROOT = Path(__file__).resolve().parents[2] / "policies"
GOOD = sorted(path for path in (ROOT / "testdata" / "good").iterdir() if path.is_dir())
BAD = sorted(path for path in (ROOT / "testdata" / "bad").iterdir() if path.is_dir())


def test_there_are_fixtures() -> None:
    assert len(GOOD) >= 3
    assert len(BAD) >= 16


@pytest.mark.parametrize("directory", GOOD, ids=lambda path: path.name)
def test_good_policies_load(directory: Path) -> None:
    loaded = load_policy(directory)
    assert loaded.policy.default is not None
    assert loaded.warnings == []


@pytest.mark.parametrize("directory", BAD, ids=lambda path: path.name)
def test_bad_policies_give_exactly_the_expected_errors(directory: Path) -> None:
    expected = (directory / "expected.txt").read_text().replace("{dir}", str(directory))
    with pytest.raises(PolicyError) as caught:
        load_policy(directory)
    assert [str(issue) for issue in caught.value.issues] == expected.splitlines()


def test_the_example_policy_loads_cleanly() -> None:
    loaded = load_policy(ROOT)
    assert loaded.warnings == []
    assert "expected.txt" not in loaded.files
    assert all("/" not in name for name in loaded.files)  # testdata is not read
    policy = loaded.policy
    assert {person.id for person in policy.people} >= {"alice", "bob", "carol", "dave", "erin"}
    assert {rotation.id for rotation in policy.rotations} == {
        "platform-primary",
        "platform-secondary",
    }
    assert policy.priorities["P2"].upgrade_to == "P1"
    assert policy.default is not None
    assert all(person.phone.startswith("+1555010") for person in policy.people)
