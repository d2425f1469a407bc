"""Fuzzing the policy loader: whatever a file holds, `pager check` answers and never raises.

Three kinds of input: YAML-ish text from the tokens that break parsers
(anchors, aliases, tags, NUL, deep brackets, odd scalars), arbitrary values
dropped anywhere into a valid policy, and arbitrary matcher and regex text in
a rule. Each must give a valid policy or issues that name a file and line.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pager.policy.loader import check_directory

VALID: dict[str, Any] = {
    "people": [
        {"id": "alice", "phone": "+15550100001", "notify": [{"channel": "sms", "after": "0s"}]},
        {"id": "bob", "phone": "+15550100002", "timezone": "Europe/London"},
    ],
    "rotations": [
        {"id": "primary", "shift": "1w", "handoff": "2026-01-05T09:00", "members": ["alice"]}
    ],
    "escalation_policies": [
        {
            "id": "team",
            "repeat": 1,
            "levels": [
                {"targets": ["rotation:primary"], "ack_timeout": "5m"},
                {"targets": ["person:bob"]},
            ],
        }
    ],
    "priorities": {
        "P1": {"ack_expires": "1h", "stakeholders": ["person:bob"]},
        "P2": {"channels": ["sms"], "upgrade_to": "P1", "upgrade_after": "2h"},
    },
    "throttle": {"sms": {"per_15m": 5, "per_1h": 11}},
    "rules": [
        {
            "matchers": ['severity="critical"'],
            "priority": "P1",
            "escalation": "team",
            "runbook": "https://runbooks.example.com/x",
        },
        {
            "matchers": ['alertname="Watchdog"'],
            "heartbeat": {"expect_every": "5m", "priority": "P1", "escalation": "team"},
        },
    ],
    "heartbeats": [
        {"name": "backup", "expect_every": "1d", "priority": "P2", "escalation": "team"}
    ],
    "default": {"priority": "P2", "escalation": "team"},
}

TOKENS = st.sampled_from(
    [
        "people:",
        "rules:",
        "default:",
        "priorities:",
        "rotations:",
        "\n",
        "\n  ",
        "  - ",
        "- ",
        "id: ",
        "matchers: ",
        "shift: ",
        "[",
        "]",
        "{",
        "}",
        ", ",
        ": ",
        "&a ",
        "*a",
        "<<: *a",
        "!!binary ",
        "!!python/object/apply:os.system ",
        "!!map ",
        "'",
        '"',
        "\\0",
        "\\ud800",
        "\x00",
        "\t",
        "? ",
        "---\n",
        "...\n",
        "%YAML 1.2\n",
        "# c",
        "|\n",
        ">-\n",
        "1e999",
        ".inf",
        "0x1F",
        "~",
        "null",
        "true",
        "yes",
        "2026-01-05T09:00",
        "5m",
        "0",
        "1000000000d",
        "P1",
        "P99999999999999999",
        "+15550100001",
        'severity="critical"',
        "a=1,b=2",
        "\ufeff",
        "é",
        "🙂",
        "\r\n",
        "[" * 80,
        "]" * 80,
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["0", "5m", "1h1h", "-1s", "P1", "person:zed", "2026-13-40T99:00", "\x00"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _check(text: str) -> None:
    """check_directory answers; every issue names the file (with a line) or the directory."""
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "policy.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
        issues, status = check_directory(Path(directory))
    assert status in (0, 1)
    assert (status == 1) == any(issue.severity == "error" for issue in issues)
    for issue in issues:
        assert issue.message
        assert (issue.file == "policy.yaml" and issue.line >= 1) or issue.line == 0


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


PATHS = _paths(VALID)[1:]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_the_skeleton_is_valid() -> None:
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "policy.yaml").write_text(yaml.safe_dump(VALID), encoding="utf-8")
        issues, status = check_directory(Path(directory))
    assert (status, issues) == (0, [])


@FUZZ
@given(st.lists(st.one_of(TOKENS, st.text(max_size=6)), max_size=40).map("".join))
def test_yaml_ish_text_never_raises(text: str) -> None:
    _check(text)


@FUZZ
@given(path=st.sampled_from(PATHS), value=VALUES)
def test_any_value_anywhere_in_a_valid_policy_never_raises(
    path: tuple[Any, ...], value: Any
) -> None:
    data = copy.deepcopy(VALID)
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    _check(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(matcher=st.text(max_size=30), regex=st.text(max_size=30))
def test_any_matcher_or_regex_text_never_raises(matcher: str, regex: str) -> None:
    data = copy.deepcopy(VALID)
    data["rules"][0]["matchers"] = [matcher, f'job=~"{regex}"', regex]
    _check(yaml.safe_dump(data, allow_unicode=True))
