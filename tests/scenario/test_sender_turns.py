"""The sender gives webhooks their turns at SQLite's write lock: a storm's held
pages are claimed in one transaction, reading each person's sends once, not a
transaction (a turn) for each slot they leave free."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from tests.harness import Harness
from tests.scenario.test_throttle import STORM

SQLITE_ONLY = pytest.mark.parametrize("db_kind", ["sqlite"])
ONE_SMS = STORM.replace("sms: {per_15m: 3, per_1h: 10}", "sms: {per_15m: 1, per_1h: 10}")
SENT_TIMES = "notifications.sent_at, notifications.started_at, notifications.state"


async def _storm(h: Harness, incidents: int) -> None:
    for i in range(incidents):
        await h.fire(f"alertname=Storm{i}", "severity=critical")


@SQLITE_ONLY
async def test_held_pages_leave_their_slots_to_a_claim_in_the_same_transaction(make_harness):
    h = await make_harness(ONE_SMS)
    assert "per_15m: 1," in ONE_SMS
    await _storm(h, 8)
    engine = h.pager.engine
    assert await h.escalate_only() == 8  # 8 pages for alice, 8 FYIs
    reads: list[str] = []
    begins: list[Any] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if SENT_TIMES in statement:
            reads.append(statement)

    def began(conn: Any) -> None:
        begins.append(conn)

    sync_engine = h.pager.db.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", seen)
    event.listen(sync_engine, "begin", began)
    try:
        handled = await engine.sender.run(h.clock.now())
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)
        event.remove(sync_engine, "begin", began)
    # One page and one FYI went; the 14 rows held did not need a transaction
    # (a turn at the write lock) for each slot they left free.
    assert handled == 16
    assert engine.slots.free == engine.slots.size - 2
    assert len(begins) == 1
    # Each person's sends are read once, though one of theirs started: alice's
    # pages and frank's FYIs (the start is added to what the claim read).
    assert len(reads) == 2
    await engine.drain()
    h.notifier.expect("alice", "sms", "[P1]", "Reply")
    h.notifier.expect("frank", "sms", "OPENED")
    h.notifier.assert_no_more()
    await h.fast_forward(minutes=2)
    h.notifier.expect("alice", "sms", "7 more incidents")
    h.notifier.assert_no_more()
