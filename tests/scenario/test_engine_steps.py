"""The engine's steps are isolated (issue 15): a step that raises at every tick,
and every time it is asked when it is next due, stops no paging.

The broken step is put first, before the heartbeats, so every real step runs
after a failure in the same tick. Real TwilioNotifier against FakeTwilio, the
FakeClock, no sleeping; every page is expected and nothing else is sent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from pager.engine.steps import Plan, Steps
from pager.metrics import ENGINE_STEPS, Metrics
from tests.scenario.conftest import MakeHarness
from tests.scenario.policies import BASE
from tests.scenario.twilio_harness import ALICE, BOB, TwilioHarness

CRITICAL = ("alertname=ApiDown", "severity=critical", "service=api")


class Broken:
    """A step with a bug: whatever it is asked, it raises."""

    name = "broken"

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, now: datetime) -> int:
        self.runs += 1
        raise RuntimeError(f"broken at {now.isoformat()}")

    async def next_due(self, session: AsyncSession) -> datetime | None:
        raise RuntimeError("broken, also when asked when")


def errors(h: TwilioHarness, step: str) -> float:
    return h.metric("pager_engine_step_errors_total", step=step)


def runs_timed(h: TwilioHarness, step: str) -> float:
    return h.metric("pager_engine_step_duration_seconds_count", step=step)


async def test_a_step_that_raises_at_every_tick_stops_no_paging(
    make_twilio_harness: MakeHarness, caplog
) -> None:
    h = await make_twilio_harness(BASE)
    engine = h.pager.engine
    broken = Broken()
    engine.steps = Steps((broken, *engine.steps.steps), engine.metrics)

    with caplog.at_level(logging.ERROR, logger="pager.engine.steps"):
        incident = await h.fire(*CRITICAL, summary="API is down")
        await h.settle()
        h.fake.expect_sms(ALICE, f"#{incident}", "API is down")
        after_first = errors(h, "broken")
        assert after_first >= 2  # its run and its next_due, each counted

        await h.fast_forward(minutes=1)  # alice's second channel
        await h.expect_voice(ALICE)
        await h.fast_forward(minutes=4)  # level 1's 5m ack timeout: bob
        h.fake.expect_sms(BOB, f"#{incident}", "API is down")
        h.fake.assert_no_more()

    assert errors(h, "broken") > after_first  # it went on failing, every tick
    assert broken.runs >= 3
    assert runs_timed(h, "broken") == broken.runs  # timed even when it raises
    for step in ENGINE_STEPS:
        assert errors(h, step) == 0, step
        assert runs_timed(h, step) >= broken.runs, step  # every tick ran every step
    failed = [r for r in caplog.records if getattr(r, "step", None) == "broken"]
    assert failed
    assert {r.levelno for r in failed} == {logging.ERROR}
    assert any(r.exc_info and "broken at" in str(r.exc_info[1]) for r in failed)
    assert await h.state(incident) == ("triggered", None)


async def test_the_engine_runs_the_steps_the_metrics_list_in_that_order(
    make_twilio_harness: MakeHarness,
) -> None:
    """README's list of steps and the series pre-created at zero are the engine's own."""
    h = await make_twilio_harness(BASE)
    assert tuple(step.name for step in h.pager.engine.steps.steps) == ENGINE_STEPS
    for step in ENGINE_STEPS:
        assert errors(h, step) == 0
        assert runs_timed(h, step) == 0
    h.fake.assert_no_more()


class Stub:
    """A step that handles `handles` rows per run and is due at `due`."""

    def __init__(self, name: str, handles: int = 0, due: datetime | None = None) -> None:
        self.name, self.handles, self.due, self.runs = name, handles, due, 0

    async def run(self, now: datetime) -> int:
        self.runs += 1
        return self.handles

    async def next_due(self, session: AsyncSession) -> datetime | None:
        return self.due


NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def test_a_step_that_handled_work_runs_the_steps_it_feeds_in_the_same_pass() -> None:
    escalate, send, reconcile = Stub("escalate", handles=1), Stub("send"), Stub("reconcile")
    steps = Steps((escalate, send, reconcile), Metrics(), {"escalate": ("send",)})
    assert await steps.run_all(NOW, only=[escalate]) == 1
    assert (escalate.runs, send.runs, reconcile.runs) == (1, 1, 0)
    escalate.handles = 0  # nothing escalated: nothing new to send
    await steps.run_all(NOW, only=[escalate])
    assert (escalate.runs, send.runs, reconcile.runs) == (2, 1, 0)
    await steps.run_all(NOW)  # tick(): every step
    assert (escalate.runs, send.runs, reconcile.runs) == (3, 2, 1)


def test_a_plan_says_which_steps_are_due_and_how_long_to_sleep() -> None:
    soon, later, never = Stub("soon"), Stub("later"), Stub("never")
    failing = Stub("failing")
    plan = Plan(
        ((soon, NOW), (later, NOW + timedelta(seconds=3)), (never, None), (failing, None)),
        frozenset({"failing"}),
    )
    assert plan.ready(NOW) == (soon, failing)  # one that could not say runs every time
    assert plan.ready(NOW + timedelta(seconds=3)) == (soon, later, failing)
    assert plan.earliest == NOW
    assert plan.delay(NOW - timedelta(seconds=2), interval=5) == 2
    assert plan.delay(NOW + timedelta(seconds=9), interval=5) == 0  # overdue: at once
    idle = Plan(((never, None), (failing, None)), frozenset({"failing"}))
    assert idle.delay(NOW, interval=5) == 5  # nothing planned: the interval
