"""State survives restarts: incidents, timelines and the escalation position."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from pager.clock import FakeClock
from pager.store.models import Notification
from pager.store.notifications import sent_times
from tests.harness import Harness
from tests.scenario.policies import BASE

CRITICAL = ("alertname=ApiDown", "severity=critical", "service=api")
WARNING = ("alertname=Disk", "severity=warning")  # P2, in hours (Mon 09:00)


async def restart(make_harness, h: Harness) -> Harness:
    """Stop the app (closing its database) and start a new one on the same database."""
    await h.client.close()
    started: Harness = await make_harness(BASE)
    return started


async def test_incidents_and_timelines_survive_a_restart(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL, summary="API down")
    await h.settle()
    h.notifier.expect("alice", "sms", "API down")
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


async def claimed_by_an_older_version(
    make_harness, clock: FakeClock, *labels: str
) -> tuple[Harness, int]:
    """A row claimed (committed) but not started, as a replica of an older version
    left it when it died before its start's own commit (this version starts the
    request in the claim's commit)."""
    h = await make_harness(BASE)
    incident = await h.fire(*labels)
    await h.escalate_only()
    claimed, _ = await h.pager.engine.sender._claim(clock.now(), 4)
    assert len(claimed) == 1
    async with h.pager.db.write() as session:
        await session.execute(
            update(Notification)
            .where(Notification.id == claimed[0].notification_id)
            .values(started_at=None)
        )
    await h.client.close()
    return await make_harness(BASE, notifier=h.notifier), incident


@pytest.mark.parametrize("labels", [CRITICAL, WARNING], ids=["P1", "P2"])
async def test_a_claim_never_started_is_sent_once_after_the_lease(make_harness, clock, labels):
    """Issue 12, cause 1: a claimed row that never left the process was `unknown`
    after a crash, and an unknown P2 was never sent. Now it is pending again once
    its claim's lease runs out, and sent once, for any priority."""
    h2, incident = await claimed_by_an_older_version(make_harness, clock, *labels)
    await h2.fast_forward(seconds=14)
    h2.notifier.assert_no_more()  # the lease (15 s) still holds it
    await h2.fast_forward(seconds=1)
    h2.notifier.expect("alice", "sms")
    h2.notifier.assert_no_more()
    states = [n["state"] for n in (await h2.incident(incident))["notifications"]]
    assert states[0] == "sent"
    assert "unknown" not in states
    assert h2.notifier.lookups == []  # nothing to ask: it never left the process


async def crashed_in_send(make_harness, clock: FakeClock, *labels: str, crash: str):
    """The claim, which is the request's start, committed; the process dies before
    the result is: right after the claim, or once the provider took the message."""
    h = await make_harness(BASE)
    incident = await h.fire(*labels)
    await h.escalate_only()
    claimed, _ = await h.pager.engine.sender._claim(clock.now(), 4)
    if crash == "after_accept":
        await h.notifier.send(claimed[0].message)  # Twilio took it; the result is never recorded
    await h.client.close()
    return await make_harness(BASE, notifier=h.notifier), incident


@pytest.mark.parametrize("labels", [CRITICAL, WARNING], ids=["P1", "P2"])
async def test_crash_after_the_provider_accepted_is_found_not_repeated(make_harness, clock, labels):
    """Issue 12, cause 3: the unknown send is looked up at the provider, found, and
    recorded with its id: no duplicate (P1 was sent twice before, P2 dropped)."""
    h2, incident = await crashed_in_send(make_harness, clock, *labels, crash="after_accept")
    h2.notifier.expect("alice", "sms")  # the provider had it before the crash
    await h2.fast_forward(seconds=30)
    h2.notifier.assert_no_more()
    detail = await h2.incident(incident)
    first = detail["notifications"][0]
    assert (first["state"], first["provider_id"]) == ("sent", "FAKE000001")
    assert [m.channel for m in h2.notifier.lookups] == ["sms"]
    assert {"notification_unknown", "notification_sent"} <= set(await h2.events(incident))


@pytest.mark.parametrize("labels", [CRITICAL, WARNING], ids=["P1", "P2"])
async def test_crash_before_the_request_left_is_not_found_and_sent(make_harness, clock, labels):
    """The crash came right after the claim: the row was started, so it may have
    left; Twilio is asked, has nothing, and the page is sent, once."""
    h2, incident = await crashed_in_send(make_harness, clock, *labels, crash="after_claim")
    await h2.fast_forward(seconds=30)
    h2.notifier.expect("alice", "sms")  # not found at the provider: sent now, once
    h2.notifier.assert_no_more()
    assert "notification_not_found" in await h2.events(incident)
    first = (await h2.incident(incident))["notifications"][0]
    assert first["state"] == "sent"


async def test_provider_cannot_be_asked_p1_is_sent_once_more(make_harness, clock):
    h2, incident = await crashed_in_send(make_harness, clock, *CRITICAL, crash="after_accept")
    h2.notifier.lookups_fail = True
    await h2.fast_forward(seconds=30)
    h2.notifier.expect("alice", "sms")
    h2.notifier.expect("alice", "sms")  # a duplicate beats a miss
    h2.notifier.assert_no_more()
    await h2.fast_forward(seconds=30)
    h2.notifier.expect("alice", "voice")  # her 1-minute rule, in its time
    h2.notifier.assert_no_more()
    states = [n["state"] for n in (await h2.incident(incident))["notifications"]]
    assert states.count("unknown") == 1


async def test_provider_cannot_be_asked_p2_escalates_early(make_harness, clock):
    h2, incident = await crashed_in_send(make_harness, clock, *WARNING, crash="before_send")
    h2.notifier.lookups_fail = True
    await h2.fast_forward(seconds=30)
    h2.notifier.expect("bob", "sms")  # level 2 at once, not at the 5m ack timeout
    h2.notifier.assert_no_more()
    assert "unknown_escalated" in await h2.events(incident)
    await h2.fast_forward(minutes=9)
    h2.notifier.assert_no_more()


async def test_a_crashed_send_is_counted_by_the_throttle_while_unknown(make_harness, clock):
    """The unknown row counts against alice's limit as of when its request started."""
    h2, _ = await crashed_in_send(make_harness, clock, *CRITICAL, crash="after_accept")
    async with h2.pager.db.read() as session:
        times = await sent_times(
            session, "alice", "sms", clock.now() - timedelta(hours=1), clock.now(), ("page",)
        )
    assert times == [clock.now()]
    h2.notifier.expect("alice", "sms")  # the provider had it before the crash
