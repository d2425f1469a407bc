"""The engine's steps are isolated (issue 15): a step that raises at every tick,
and every time it is asked when it is next due, stops no paging.

The broken step is put first, before the heartbeats, so every real step runs
after a failure in the same tick. Real TwilioNotifier against FakeTwilio, the
FakeClock, no sleeping; every page is expected and nothing else is sent.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.engine.steps import Steps
from pager.metrics import ENGINE_STEPS
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
