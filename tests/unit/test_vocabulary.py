"""The domain's words are defined once (pager/core/vocabulary.py) and used by name.

The database keeps states, kinds and channels as plain strings, so a bare
"pendng" in a query would match nothing and no test of the query's own
behaviour need notice. These tests read pager's source instead: no string
literal that is a vocabulary word is compared with, assigned to or passed as a
`state`, `kind` or `channel`; and the tables keyed by the vocabulary (console
words, pre-created metrics, timeline phrases) cover it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import pager
from pager import metrics
from pager.core.vocabulary import (
    Channel,
    EventKind,
    IncidentState,
    NotificationKind,
    NotificationState,
)
from pager.web import timeline, views

PACKAGE = Path(pager.__file__).parent
FIELDS = {"state", "kind", "channel"}
WORDS = {
    str(w) for enum in (NotificationState, IncidentState, NotificationKind, Channel) for w in enum
}
# Where the words are defined.
DEFINITIONS = {"core/vocabulary.py", "policy/model.py"}


def _is_field(node: ast.expr) -> bool:
    """`x.state`, or `x["state"]` (the CLI and the console read the API's JSON)."""
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Constant) and key.value in FIELDS
    return isinstance(node, ast.Attribute) and node.attr in FIELDS


def _words(node: ast.expr | None) -> Iterator[ast.Constant]:
    """The vocabulary words `node` spells out: a literal, or one in a tuple/list/set."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    for item in items:
        if isinstance(item, ast.Constant) and item.value in WORDS:
            yield item


def bare_words(tree: ast.AST) -> Iterator[ast.Constant]:
    """Literals used as a state, kind or channel: `x.state == "sent"`, `x.kind in
    ("page", ...)`, `Notification.state.in_(("pending", ...))`, `state="pending"`,
    `row.state = "sent"`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_field(side) for side in sides):
                for side in sides:
                    yield from _words(side)
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in FIELDS:
                    yield from _words(keyword.value)
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "in_" and _is_field(func.value):
                for arg in node.args:
                    yield from _words(arg)
        elif isinstance(node, ast.Assign):
            targets = [t for target in node.targets for t in _flatten(target)]
            values = _flatten(node.value) if isinstance(node.value, ast.Tuple) else [node.value]
            for target, value in zip(targets, values, strict=False):
                if _is_field(target):
                    yield from _words(value)


def _flatten(node: ast.expr) -> list[ast.expr]:
    return list(node.elts) if isinstance(node, ast.Tuple) else [node]


def offences(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name in DEFINITIONS:
            continue
        for word in bare_words(ast.parse(path.read_text(), str(path))):
            found.append(f"{name}:{word.lineno}: {word.value!r}")
    return found


def test_no_state_kind_or_channel_is_a_bare_string() -> None:
    assert offences(PACKAGE) == []


@pytest.mark.parametrize(
    "source",
    [
        'row.state = "sent"',
        'row.state, row.deadline = "pending", None',
        'if row.state in ("pending", "failed_temp"): pass',
        'q = select(N).where(N.kind == "page", N.state.in_(("sent", "delivered")))',
        'N(state="pending", kind="info", channel="sms")',
        'ok = "voice" == message.channel',
        'done = incident["state"] == "resolved"',
        'pages = [n for n in rows if n["kind"] in ("page", "bundle")]',
    ],
)
def test_the_guard_sees_each_shape_of_bare_word(source: str) -> None:
    assert list(bare_words(ast.parse(source)))


def test_the_guard_ignores_words_that_are_not_our_fields() -> None:
    # Twilio's statuses and Alertmanager's are their vocabulary, not ours.
    source = 'form.status == "delivered"\nalert.status == "resolved"\nx = {"sent": 1}'
    assert not list(bare_words(ast.parse(source)))


def test_the_console_has_words_for_every_notification_state() -> None:
    assert set(views.DELIVERY) == set(NotificationState)


def test_every_final_notification_state_has_a_series_from_the_start() -> None:
    passing = {NotificationState.PENDING, NotificationState.SENDING}
    assert set(metrics.NOTIFY_OUTCOMES) | passing == set(NotificationState)
    assert set(metrics.CHANNELS) == set(Channel)
    assert set(metrics.STATES) == set(IncidentState) - {IncidentState.RESOLVED}


def test_every_kind_the_timeline_has_words_for_is_a_kind_written() -> None:
    known = set(timeline.PHRASES) | set(timeline.ACTED) | set(timeline.WITH_AUTHOR)
    assert known <= set(EventKind), known - set(EventKind)
