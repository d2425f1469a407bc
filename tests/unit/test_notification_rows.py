"""Outbox rows are made in one place (pager/store/notification_rows.py), where
each kind's idempotency key is written down; the keys are what keep a step's
page from being sent twice, so their shapes are pinned here."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pager
from pager.core.vocabulary import Channel, NotificationKind, NotificationState
from pager.store import notification_rows
from pager.store.models import Notification

PACKAGE = Path(pager.__file__).parent
BUILDER = "store/notification_rows.py"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def constructors(root: Path) -> list[str]:
    """Where pager calls `Notification(...)` outside the builder module."""
    found = []
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                name != BUILDER
                and isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Notification"
            ):
                found.append(f"{name}:{node.lineno}")
    return found


def test_only_the_builder_makes_notification_rows() -> None:
    assert constructors(PACKAGE) == []


def _page() -> Notification:
    return notification_rows.ordered(
        "42:3:alice:0",
        42,
        "alice",
        "+15550100001",
        Channel.SMS,
        NotificationKind.PAGE,
        "P1",
        3,
        "[P1] #42 Disk full",
        NOW,
        NOW,
        NOW - timedelta(seconds=2),
    )


def test_every_row_is_born_pending_with_no_attempt() -> None:
    page = _page()
    rows = [
        page,
        notification_rows.fallback_page(page, 42, "P1", Channel.VOICE, "call", NOW),
        notification_rows.resend(page, NOW),
        notification_rows.bundle(page, NotificationKind.BUNDLE, NOW, NOW, digest=False),
        notification_rows.fallback_bundle(page, Channel.VOICE, [41, 42], NOW),
        notification_rows.info("reminder:action:7:2026-01-05", 42, "alice", "+1555", "hi", NOW),
    ]
    assert {(r.state, r.attempts) for r in rows} == {(NotificationState.PENDING, 0)}


def test_keys_name_the_message_and_nothing_else() -> None:
    page = _page()
    later = NOW + timedelta(minutes=5)

    assert notification_rows.fallback_page(page, 42, "P1", "voice", "", later).key == (
        "42:3:alice:0:fb:voice"
    )
    assert notification_rows.resend(page, later).key == "42:3:alice:0:resend"
    assert notification_rows.fallback_bundle(page, "voice", [42], later).key == (
        "42:3:alice:0:fb:voice"
    )
    ms = int(NOW.timestamp() * 1000)
    bundle = notification_rows.bundle(page, NotificationKind.BUNDLE, later, NOW, digest=False)
    digest = notification_rows.bundle(page, NotificationKind.INFO, later, NOW, digest=True)
    assert (bundle.key, digest.key) == (f"bundle:alice:sms:{ms}", f"digest:alice:sms:{ms}")


def test_a_fallback_page_keeps_the_first_try_s_step_and_times() -> None:
    page = _page()
    copy = notification_rows.fallback_page(page, 42, "P1", "voice", "call", NOW + timedelta(1))

    assert (copy.step, copy.scheduled_at, copy.alert_received_at) == (
        3,
        page.scheduled_at,
        page.alert_received_at,
    )
    assert (copy.kind, copy.channel) == (NotificationKind.PAGE, "voice")
