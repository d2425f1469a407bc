"""On SQLite the escalator's transaction claims the pages it writes due now
(Sender.claim_within): one turn at the write lock for both, and the send step
it feeds claims nothing again. What it claims starts only once that
transaction has committed, a claim under way is not waited for, and a claim
that fails loses none of the batch's decisions."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from pager.store.db import _IMMEDIATE
from tests.harness import Harness
from tests.scenario.test_outbox import CRITICAL, ROOMY, metric, states

SQLITE_ONLY = pytest.mark.parametrize("db_kind", ["sqlite"])  # PostgreSQL claims apart


async def _counted(h: Harness, work: Awaitable[Any]) -> tuple[int, int]:
    """Write transactions (BEGIN IMMEDIATE) begun, and reads of incident rows made,
    while `work` ran."""
    writes: list[Any] = []
    reads: list[str] = []

    def began(conn: Any) -> None:
        if conn.info.get(_IMMEDIATE):
            writes.append(conn)

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT incidents."):
            reads.append(statement)

    sync_engine = h.pager.db.engine.sync_engine
    event.listen(sync_engine, "begin", began)
    event.listen(sync_engine, "before_cursor_execute", seen)
    try:
        await work
    finally:
        event.remove(sync_engine, "begin", began)
        event.remove(sync_engine, "before_cursor_execute", seen)
    return len(writes), len(reads)


async def _paged_once(h: Harness) -> None:
    """Every send in flight ended: alice had her one SMS page, and nothing else went."""
    await h.pager.engine.drain()
    h.notifier.expect("alice", "sms", "[P1]")
    h.notifier.assert_no_more()


def _escalate(h: Harness) -> Any:
    [step] = [s for s in h.pager.engine.steps.steps if s.name == "escalate"]
    return step


@SQLITE_ONLY
async def test_the_pages_an_escalation_writes_are_claimed_in_its_transaction(make_harness):
    h = await make_harness(ROOMY)
    gate = h.notifier.hold("alice")  # no result recorded (a write) while counting
    await h.fire(*CRITICAL)
    engine = h.pager.engine
    # The escalate step, and the send step it feeds, in one pass.
    writes, incident_reads = await _counted(h, engine.tick(only=[_escalate(h)]))
    assert writes == 1  # before: one for the escalation, one for the send's claim
    assert incident_reads == 1  # the escalator's claim: the page's claim found it held
    assert await states(h) == Counter(sending=1)
    gate.set()
    await _paged_once(h)


@SQLITE_ONLY
async def test_an_escalation_that_does_not_commit_starts_none_of_its_claims(make_harness):
    h = await make_harness(ROOMY)
    await h.fire(*CRITICAL)
    engine = h.pager.engine

    def refuse(_conn: Any) -> None:
        raise OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))

    sync_engine = h.pager.db.engine.sync_engine
    event.listen(sync_engine, "commit", refuse)
    try:
        with pytest.raises(OperationalError):
            await engine.escalator.run(h.clock.now())
    finally:
        event.remove(sync_engine, "commit", refuse)
    await engine.drain()
    h.notifier.assert_no_more()  # the claim was rolled back with the escalation
    assert await states(h) == Counter()
    assert not engine.sender._claiming.locked()
    await h.tick()  # decided again, claimed again: sent once
    await _paged_once(h)


@SQLITE_ONLY
async def test_a_claim_under_way_is_not_waited_for(make_harness):
    h = await make_harness(ROOMY)
    await h.fire(*CRITICAL)
    engine = h.pager.engine
    await engine.sender._claiming.acquire()  # the sender is claiming (its own turn)
    try:
        assert await engine.escalator.run(h.clock.now()) == 1
    finally:
        engine.sender._claiming.release()
    assert await states(h) == Counter(pending=1)  # left to the sender's own claim
    assert await engine.sender.run(h.clock.now()) == 1
    await _paged_once(h)


@SQLITE_ONLY
async def test_a_failing_claim_loses_none_of_the_batchs_decisions(make_harness):
    h = await make_harness(ROOMY)
    incident = await h.fire(*CRITICAL)
    engine = h.pager.engine

    async def broken(_session: AsyncSession, _now: datetime, _known: Any) -> Any:
        raise RuntimeError("a bug in the claim")

    engine.escalator.claim_ahead = broken
    assert await engine.escalator.run(h.clock.now()) == 1
    # Decided again one by one, without the claim: the page is written, pending.
    assert await states(h) == Counter(pending=1)
    assert metric(h, "pager_incident_step_errors_total") == 0
    assert "level" in await h.events(incident)
    await h.tick()
    await _paged_once(h)
