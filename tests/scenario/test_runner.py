"""The engine's runner (`Engine.run_forever`, as `pager serve` runs it): one plan
per wake-up, only the steps due are run, and work it was not told of (another
replica's) is found by the next plan.

The runner waits on the real clock (at most `tick_interval`, 0.2 s here) while
every decision runs on the FakeClock, so these tests poll for what it did.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.outcome import Outcome
from pager.engine.engine import Engine
from pager.engine.steps import Steps
from pager.notify.base import SendResult
from tests.harness import Harness
from tests.observability.policies import HEARTBEATS
from tests.polling import eventually
from tests.scenario.policies import BASE

CRITICAL = ("alertname=ApiDown", "severity=critical", "service=api")
INTERVAL = 0.2  # seconds of the real clock: the longest the runner sleeps
MakeHarness = Callable[..., Awaitable[Harness]]


@asynccontextmanager
async def running(engine: Engine) -> AsyncIterator[None]:
    task = asyncio.create_task(engine.run_forever())
    try:
        yield
    finally:
        await engine.stop(task, grace=5)


def metric(h: Harness, name: str, **labels: str) -> float:
    value = h.pager.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def runs(h: Harness, step: str) -> float:
    return metric(h, "pager_engine_step_duration_seconds_count", step=step)


async def sent(h: Harness, person: str, channel: str) -> None:
    await eventually(
        lambda: any(m.person_id == person and m.channel == channel for m in h.notifier.sent),
        within=10,
        what=f"{person}'s {channel}",
    )


async def test_the_runner_runs_only_the_steps_that_are_due(make_harness: MakeHarness) -> None:
    h = await make_harness(BASE, tick_interval=INTERVAL)
    async with running(h.pager.engine):
        await h.fire(*CRITICAL)  # wakes the runner
        await sent(h, "alice", "sms")
        h.clock.advance(timedelta(minutes=1))  # her voice rule: found at the next wake-up
        await sent(h, "alice", "voice")
        await h.pager.engine.drain()
    h.notifier.expect("alice", "sms")
    h.notifier.expect("alice", "voice")
    h.notifier.assert_no_more()
    assert runs(h, "escalate") >= 1  # both rows were written at once, the voice due later
    assert runs(h, "send") >= 2
    # Nothing was ever due for these (no heartbeat, no unknown send): the runner
    # never ran them, where `tick()` runs every step every time. The reconciler
    # ran at most once: the plan read as the SMS was claimed had its lease's
    # deadline, which the minute passed.
    assert (runs(h, "heartbeats"), runs(h, "unknown")) == (0, 0)
    assert runs(h, "reconcile") <= 1


async def test_the_runner_ticks_while_nothing_is_due(make_harness: MakeHarness) -> None:
    """Readiness reads the last tick: a runner with no work still says it is alive."""
    h = await make_harness(BASE, tick_interval=INTERVAL)
    async with running(h.pager.engine):
        later = h.clock.advance(timedelta(hours=1))
        await eventually(lambda: h.pager.engine.last_tick == later, within=10, what="a tick")
    h.notifier.assert_no_more()


async def test_work_of_another_replica_is_found_without_a_wake_up(
    make_harness: MakeHarness,
) -> None:
    """The alert is taken by a second app on the same database (its engine not
    running), so nobody wakes this runner: its next plan finds the incident."""
    h = await make_harness(BASE, tick_interval=INTERVAL)
    other = await make_harness(BASE, notifier=h.notifier)
    async with running(h.pager.engine):
        await eventually(lambda: h.pager.engine.last_tick is not None, what="a first plan")
        await other.fire(*CRITICAL)
        await sent(h, "alice", "sms")
        await h.pager.engine.drain()
    h.notifier.expect("alice", "sms")
    h.notifier.assert_no_more()


class CannotSay:
    """A step whose next_due always raises: it must still run at every wake-up."""

    name = "cannot-say"

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, now: datetime) -> int:
        self.runs += 1
        return 0

    async def next_due(self, session: AsyncSession) -> datetime | None:
        raise RuntimeError("broken when asked when")


async def test_a_step_that_cannot_say_when_runs_at_every_wake_up(
    make_harness: MakeHarness,
) -> None:
    h = await make_harness(BASE, tick_interval=INTERVAL)
    engine = h.pager.engine
    broken = CannotSay()
    engine.steps = Steps((broken, *engine.steps.steps), engine.metrics, engine.steps.feeds)
    async with running(engine):
        await h.fire(*CRITICAL)
        await sent(h, "alice", "sms")  # the steps after it were asked, and ran
        await eventually(lambda: broken.runs >= 3, within=10, what="three runs")
        await engine.drain()
    h.notifier.expect("alice", "sms")
    h.notifier.assert_no_more()
    assert metric(h, "pager_engine_step_errors_total", step="cannot-say") >= 3


# Alice pages by SMS only, and P2 allows nothing else: her failure leaves nobody of
# level 1 (in P2's hours: the FakeClock starts on a Monday at 09:00 UTC).
SMS_ONLY = BASE.replace(
    "notify: [{channel: sms, after: 0s}, {channel: voice, after: 1m}]", "notify: [{channel: sms}]"
)
WARNING = ("alertname=DiskFull", "severity=warning", "service=api")
SLOW = 30.0  # a tick interval no wait of these tests comes near: the runner must be told


async def test_a_fallback_brings_the_next_channel_at_once(make_harness: MakeHarness) -> None:
    """Alice's SMS fails for good: her voice rule (due in a minute) is brought
    forward by the result, which no plan of the runner had: it plans again."""
    h = await make_harness(BASE, tick_interval=SLOW)
    h.notifier.fail("alice", "sms", SendResult(Outcome.PERMANENT, code=21211, error="bad number"))
    async with running(h.pager.engine):
        await h.fire(*CRITICAL)
        await sent(h, "alice", "voice")
        await h.pager.engine.drain()
    h.notifier.expect("alice", "sms")
    h.notifier.expect("alice", "voice")
    h.notifier.assert_no_more()


async def test_a_level_nobody_can_reach_moves_on_at_once(make_harness: MakeHarness) -> None:
    """Nobody of level 1 can be reached: the result moves the incident on, and the
    runner escalates now rather than at its next planned instant."""
    h = await make_harness(SMS_ONLY, tick_interval=SLOW)
    h.notifier.fail("alice", "sms", SendResult(Outcome.PERMANENT, code=21211, error="bad number"))
    async with running(h.pager.engine):
        await h.fire(*WARNING)
        await sent(h, "bob", "sms")
        await h.pager.engine.drain()
    h.notifier.expect("alice", "sms")
    h.notifier.expect("bob", "sms")
    h.notifier.assert_no_more()


@pytest.mark.parametrize(
    ("policy", "statements"), [(BASE, 1), (HEARTBEATS, 2)], ids=["no-heartbeats", "heartbeats"]
)
async def test_a_plan_is_one_statement_and_one_more_for_heartbeats(
    make_harness: MakeHarness, policy: str, statements: int
) -> None:
    """Every wake-up reads a plan: the four table-driven steps share one statement,
    and the heartbeats are read only when the policy declares some."""
    h = await make_harness(policy)
    seen: list[str] = []
    sync_engine = h.pager.db.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    await h.pager.engine.plan()
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == statements, selects
