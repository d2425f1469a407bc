"""Fuzzing the policy loader: whatever a file holds, `pager check` answers and never raises.

Three kinds of input: YAML-ish text from the tokens that break parsers
(anchors, aliases, tags, NUL, deep brackets, odd scalars), arbitrary values
dropped anywhere into a valid policy, and arbitrary matcher and regex text in
a rule. Each must give a valid policy or issues that name a file and line.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode, Node, ScalarNode

from pager.policy import source
from pager.policy.loader import check_directory

ROOT = Path(__file__).resolve().parents[2]

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


# --- libyaml and PyYAML read a text alike (pager.policy.source) -------------


def _tree(node: Node | None, seen: dict[int, int] | None = None) -> Any:
    """What the loader uses of a node tree: tags, values, lines (aliases as back references)."""
    if node is None:
        return None
    if isinstance(node, ScalarNode):
        return ("scalar", node.tag, node.value, node.start_mark.line)
    seen = {} if seen is None else seen
    if id(node) in seen:
        return ("alias", seen[id(node)])
    seen[id(node)] = len(seen)
    if isinstance(node, MappingNode):
        items = [(_tree(k, seen), _tree(v, seen)) for k, v in node.value]
    else:
        items = [_tree(v, seen) for v in node.value]
    return (type(node).__name__, node.tag, node.start_mark.line, items)


def _error(exc: yaml.YAMLError) -> Any:
    """What the loader says of it (source._syntax_issue): not the snippet of the text
    that PyYAML's marks show and libyaml's do not."""
    if isinstance(exc, yaml.MarkedYAMLError):
        lines = [m.line if m else None for m in (exc.problem_mark, exc.context_mark)]
        return ("error", type(exc).__name__, exc.problem, exc.context, lines)
    return ("error", type(exc).__name__, str(exc))


def _read(compose: Callable[[str], tuple[Any, Node | None]], text: str) -> Any:
    try:
        loader, root = compose(text)
    except yaml.YAMLError as exc:
        return _error(exc)
    try:
        return _tree(root), loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        return _error(exc)
    finally:
        loader.dispose()


def _pyyaml(text: str) -> tuple[Any, Node | None]:
    loader = source.PolicyYamlLoader(text)
    return loader, loader.get_single_node()


def test_policy_files_are_read_by_libyaml() -> None:
    """Else the properties below would hold for want of using it."""
    text = (ROOT / "policies" / "people.yaml").read_text(encoding="utf-8")
    loader, _ = source._compose(text)
    assert type(loader).__name__ == "_FastLoader"


@pytest.mark.parametrize(
    "text",
    [
        "alertname: Down\t\n",  # a tab after a value: PyYAML refuses it, libyaml does not
        "\ufeff\ufeff\n",  # a second byte order mark: text to PyYAML, nothing to libyaml
        "---",  # an empty node at the very end, no final newline: another line in libyaml
    ],
)
def test_where_libyaml_reads_otherwise_pyyaml_reads_the_text(text: str) -> None:
    fast = source._FastLoader(text)
    libyaml = _read(lambda _: (fast, fast.get_single_node()), text)
    assert libyaml != _read(_pyyaml, text)  # why the loader does not use it there
    assert _read(source._compose, text) == _read(_pyyaml, text)


@FUZZ
@given(st.lists(st.one_of(TOKENS, st.text(max_size=6)), max_size=40).map("".join))
def test_yaml_ish_text_reads_as_pyyaml_reads_it(text: str) -> None:
    for variant in (text, text + "\n"):  # with a final newline libyaml reads it
        assert _read(source._compose, variant) == _read(_pyyaml, variant)


@FUZZ
@given(path=st.sampled_from(PATHS), value=VALUES, flow=st.sampled_from([None, True, False]))
def test_any_policy_reads_as_pyyaml_reads_it(path: tuple[Any, ...], value: Any, flow: Any) -> None:
    data = copy.deepcopy(VALID)
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    text = yaml.safe_dump(data, allow_unicode=True, default_flow_style=flow)
    assert _read(source._compose, text) == _read(_pyyaml, text)
