"""State survives restarts: incidents, timelines and the escalation position."""

from __future__ import annotations

from datetime import timedelta

from pager.clock import FakeClock
from tests.fakes.fake_notifier import Crash
from tests.harness import Harness
from tests.scenario.policies import BASE

CRITICAL = ("alertname=ApiDown", "severity=critical", "service=api")


async def restart(make_harness, h: Harness) -> Harness:
    """Stop the app (closing its database) and start a new one on the same database."""
    await h.client.close()
    started: Harness = await make_harness(BASE)
    return started


async def test_incidents_and_timelines_survive_a_restart(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL, summary="API down")
    await h.settle()
    before = await h.incident(incident)
    h2 = await restart(make_harness, h)
    after = await h2.incident(incident)
    assert after["timeline"] == before["timeline"]
    assert after["alerts"] == before["alerts"]
    assert (after["state"], after["summary"]) == ("triggered", "API down")


async def test_step_due_while_down_fires_once_at_once_and_the_rest_keep_their_times(
    make_harness, clock: FakeClock
):
    h = await make_harness(BASE)
    await h.fire(*CRITICAL)
    await h.settle()
    h.notifier.expect("alice", "sms")
    await h.client.close()  # down for 7 minutes: alice's voice (1m) and bob (5m) fell due
    clock.advance(timedelta(minutes=7))
    h2 = await make_harness(BASE)
    await h2.settle()
    h2.notifier.expect("alice", "voice")
    h2.notifier.expect("bob", "sms")
    h2.notifier.assert_no_more()
    # erin was due 10 minutes after bob's level *was due* (5m), not after the restart (7m).
    await h2.fast_forward(minutes=7, seconds=59)
    h2.notifier.assert_no_more()
    await h2.fast_forward(seconds=1)
    h2.notifier.expect("erin", "sms")
    h2.notifier.assert_no_more()


async def test_crash_after_claim_p1_is_sent_again_once(make_harness, clock: FakeClock):
    """Claimed (sending) but the process died before the provider was called:
    after the deadline it is unknown, and a P1 page goes out once more."""
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.pager.engine.escalator.run(clock.now())
    claimed = await h.pager.engine.sender._claim(clock.now())  # then the process dies
    assert [c.message.person_id for c in claimed] == ["alice"]
    await h.client.close()
    h2 = await make_harness(BASE)
    await h2.fast_forward(seconds=30)
    h2.notifier.expect("alice", "sms")  # the resend
    h2.notifier.assert_no_more()
    await h2.fast_forward(seconds=30)
    h2.notifier.expect("alice", "voice")  # her 1-minute rule, in its time
    h2.notifier.assert_no_more()
    states = [n["state"] for n in (await h2.incident(incident))["notifications"]]
    assert states.count("unknown") == 1
    assert "sending" not in states


async def test_crash_after_provider_accepted_before_commit(make_harness, clock: FakeClock):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    h.notifier.crash_after_accept = True
    try:
        await h.settle()
        raise AssertionError("the crash did not happen")
    except Crash:
        pass
    h.notifier.expect("alice", "sms")  # the provider had it
    await h.client.close()
    h2 = await make_harness(BASE)
    await h2.fast_forward(seconds=30)
    h2.notifier.expect("alice", "sms")  # a duplicate beats a miss (P1)
    h2.notifier.assert_no_more()
    await h2.fast_forward(minutes=1)
    h2.notifier.expect("alice", "voice")
    h2.notifier.assert_no_more()
    assert "notification_unknown" in await h2.events(incident)


async def test_crash_after_claim_p2_is_not_sent_again(make_harness, clock: FakeClock):
    h = await make_harness(BASE)
    incident = await h.fire("alertname=Disk", "severity=warning")  # P2, in hours (Mon 09:00)
    await h.pager.engine.escalator.run(clock.now())
    await h.pager.engine.sender._claim(clock.now())
    await h.client.close()
    h2 = await make_harness(BASE)
    await h2.fast_forward(minutes=1)
    h2.notifier.assert_no_more()
    states = [n["state"] for n in (await h2.incident(incident))["notifications"]]
    assert states == ["unknown"]
