"""The outbox never loses a page (issue 12), told as scenarios on the FakeClock.

One scenario per cause, each failing on the code before the fix: claims that
were not sends (1), a slow send holding others back (2), an ack that did not
stop a claimed page (5), a retry policy that gave up (6), and the metrics
that misled (issue 14). Unknown sends (3) are in test_unknown.py, a bad
incident (4) in test_isolation.py. Every scenario ends with assert_no_more().
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from pager.core.outcome import Outcome
from pager.notify.base import SendResult
from pager.store.models import Incident, Notification
from tests.harness import Harness
from tests.polling import eventually
from tests.scenario.policies import BASE

CRITICAL = ("alertname=ApiDown", "severity=critical", "service=api")
# Alice pages by SMS only, no throttle to speak of, and a long first level.
ROOMY = BASE.replace(
    "notify: [{channel: sms, after: 0s}, {channel: voice, after: 1m}]", "notify: [{channel: sms}]"
).replace(
    "{targets: [rotation:primary], ack_timeout: 5m}",
    "{targets: [rotation:primary], ack_timeout: 30m}",
) + ("throttle: {sms: {per_15m: 1000, per_1h: 1000}, voice: {per_15m: 1000, per_1h: 1000}}\n")


async def states(h: Harness) -> Counter[str]:
    async with h.pager.db.read() as session:
        rows = await session.execute(select(Notification.state))
        return Counter(rows.scalars())


def metric(h: Harness, name: str, **labels: str) -> float:
    value = h.pager.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


# --- cause 1: claimed is not sent ----------------------------------------------


async def test_only_what_free_send_slots_start_is_claimed(make_harness):
    """Ten pages due at once, the provider slow: four are in flight, the other six
    stay pending (claimed by nobody), so a crash now could lose none of them.
    Before, all ten were claimed `sending` by one batch."""
    h = await make_harness(ROOMY)
    gate = h.notifier.hold("alice")
    for i in range(10):
        await h.fire(f"alertname=Load{i}", "severity=critical")
    await h.pager.engine.tick()
    await eventually(lambda: h.notifier.in_flight == 4, within=5, what="four sends in flight")
    assert await states(h) == Counter(sending=4, pending=6)

    gate.set()
    await h.pager.engine.drain()  # each freed slot claims the next page at once

    assert await states(h) == Counter(sent=10)
    for _ in range(10):
        h.notifier.expect("alice", "sms", "Reply")
    h.notifier.assert_no_more()


async def test_the_runner_does_not_spin_while_every_slot_is_busy(make_harness):
    """With all four slots in flight, the rows waiting for one are not "due now" to
    the runner (a freed slot wakes it): it sleeps until the next timer instead."""
    h = await make_harness(ROOMY)
    gate = h.notifier.hold("alice")
    for i in range(6):
        await h.fire(f"alertname=Load{i}", "severity=critical")
    await h.pager.engine.tick()
    await eventually(lambda: h.notifier.in_flight == 4, within=5, what="four sends in flight")
    due = await h.pager.engine.next_due()
    assert due is not None
    assert due > h.clock.now()  # the leases' deadlines, not the two pending rows
    gate.set()
    await h.pager.engine.drain()
    assert await states(h) == Counter(sent=6)
    assert await h.pager.engine.next_due() != h.clock.now()
    for _ in range(6):
        h.notifier.expect("alice", "sms")
    h.notifier.assert_no_more()


# --- cause 2: queue time is not send time ---------------------------------------


async def test_a_slow_send_holds_back_no_other(make_harness):
    """Bob's provider hangs; alice's page is sent and recorded meanwhile. Before,
    the batch was gathered: alice's result waited for bob's (a P2 waited 16 s)."""
    h = await make_harness(BASE)
    gate = h.notifier.hold("bob")
    slow = await h.fire("alertname=Gap", "team=gappy")  # bob (level 0 has nobody)
    fast = await h.fire(*CRITICAL)  # alice
    await h.pager.engine.tick()

    async def alice_recorded() -> bool:
        first = (await h.incident(fast))["notifications"][0]
        return bool(first["state"] == "sent")

    await eventually(alice_recorded, within=5, what="alice's page recorded")
    assert [n["state"] for n in (await h.incident(slow))["notifications"]] == ["sending"]
    gate.set()
    await h.pager.engine.drain()
    h.notifier.expect("alice", "sms", f"#{fast}")
    h.notifier.expect("bob", "sms", f"#{slow}")
    h.notifier.assert_no_more()


# --- cause 5: no page after an ack ----------------------------------------------


async def test_the_claim_checks_the_incident_and_cancels_a_page_no_longer_wanted(
    make_harness, clock
):
    """The claim, which is also the request's start, reads the incident after
    locking the row (LOCK ORDER: an ack cancels the rows first, so on PostgreSQL it
    either got the row first or waits for the claim's commit). An incident no
    longer triggered whose page is still pending (here written directly, the
    rows left as they were) gets that page cancelled, and counted, not sent.
    Before issue 12, a claimed page went out whatever happened meanwhile."""
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.escalate_only()
    async with h.pager.db.write() as session:
        await session.execute(
            update(Incident).where(Incident.id == incident).values(state="acknowledged")
        )

    claimed, handled = await h.pager.engine.sender._claim(clock.now(), 4)

    assert (claimed, handled) == ([], 1)  # alice's SMS; her voice call is not due yet
    h.notifier.assert_no_more()
    assert [n["state"] for n in (await h.incident(incident))["notifications"]] == [
        "cancelled",
        "pending",
    ]
    assert metric(h, "pager_notifications_total", channel="sms", outcome="cancelled") == 1
    assert metric(h, "pager_pages_after_ack_total") == 0


async def test_a_page_in_flight_when_the_ack_lands_is_counted(make_harness):
    h = await make_harness(BASE)
    gate = h.notifier.hold("alice")
    incident = await h.fire(*CRITICAL)
    await h.pager.engine.tick()
    await eventually(lambda: h.notifier.in_flight == 1, within=5, what="alice's SMS in flight")
    await h.post(f"/api/v1/incidents/{incident}/ack", {"by": "alice"})
    gate.set()
    await h.settle()

    h.notifier.expect("alice", "sms", f"#{incident}")  # it had left: nothing can stop it
    await h.fast_forward(minutes=30)
    h.notifier.assert_no_more()  # but her call at 1m was cancelled
    assert metric(h, "pager_pages_after_ack_total") == 1


async def test_pages_cancelled_in_bulk_by_an_ack_are_counted(make_harness):
    """Issue 14: pager_notifications_total{outcome="cancelled"} stayed 0."""
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.settle()
    h.notifier.expect("alice", "sms")
    await h.fast_forward(seconds=30)
    await h.post(f"/api/v1/incidents/{incident}/ack", {"by": "alice"})
    await h.settle()
    assert metric(h, "pager_notifications_total", channel="voice", outcome="cancelled") == 1
    await h.fast_forward(minutes=30)
    h.notifier.assert_no_more()
    assert metric(h, "pager_notifications_total", channel="voice", outcome="cancelled") == 1


# --- cause 6: the retry policy --------------------------------------------------


async def test_temporary_failures_are_retried_until_the_level_times_out(make_harness):
    """Six 5xx in a row: the seventh attempt, 10 minutes in, goes through (the
    level waits 30 minutes). Before, the fifth failure was final and alice was
    never paged."""
    h = await make_harness(ROOMY)
    later = SendResult(Outcome.TEMPORARY, error="HTTP 503", code=20503)
    h.notifier.fail("alice", "sms", *[later] * 6)
    incident = await h.fire(*CRITICAL)
    await h.fast_forward(seconds=609)  # tries at 0, 10, 30, 70, 150, 310 s
    assert len(h.notifier.sent) == 6
    await h.fast_forward(seconds=1)  # 310 + the 5-minute cap
    assert len(h.notifier.sent) == 7
    for _ in range(6):
        h.notifier.expect("alice", "sms")  # the failed tries
    h.notifier.expect("alice", "sms", f"#{incident}")
    h.notifier.assert_no_more()
    first = (await h.incident(incident))["notifications"][0]
    assert (first["state"], first["attempts"]) == ("sent", 7)


async def test_retries_stop_at_the_ack_timeout_and_fall_back(make_harness):
    """Bob's SMS keeps failing: retried until his level's ack timeout (5 minutes,
    the last try at that instant), then his next channel, a call, is tried."""
    h = await make_harness(BASE)
    later = SendResult(Outcome.TEMPORARY, error="HTTP 500", code=20500)
    h.notifier.fail("bob", "sms", *[later] * 20)
    incident = await h.fire("alertname=Gap", "team=gappy")  # level 0 empty: bob at once
    await h.fast_forward(minutes=4, seconds=59)
    assert len(h.notifier.sent) == 5  # at 0, 10, 30, 70 and 150 s
    await h.fast_forward(seconds=1)  # 5m: the last try, then the call
    for _ in range(6):
        h.notifier.expect("bob", "sms")
    h.notifier.expect("bob", "voice", f"{incident}")
    await h.fast_forward(hours=1)
    h.notifier.assert_no_more()  # the policy's levels are spent: exhausted
    events = await h.events(incident)
    assert {"fallback", "exhausted"} <= set(events)
    first = (await h.incident(incident))["notifications"][0]
    assert first["state"] == "failed_perm"
    assert "ack timeout" in first["error"]


# --- issue 14: metrics that say what they name ----------------------------------


async def test_page_latency_counts_only_the_first_page_of_an_incident(make_harness):
    h = await make_harness(BASE)
    await h.fire(*CRITICAL)
    await h.settle()
    await h.fast_forward(minutes=5)  # her call at 1m, bob's level at 5m
    for person, channel in (("alice", "sms"), ("alice", "voice"), ("bob", "sms")):
        h.notifier.expect(person, channel)
    h.notifier.assert_no_more()
    assert metric(h, "pager_page_latency_seconds_count") == 1
    assert metric(h, "pager_notification_lateness_seconds_count") == 3


async def test_page_latency_leaves_out_a_page_released_after_a_hold(make_harness, clock):
    """A P2 that came in on Saturday is paged on Monday at 09:00: that is not a
    pager latency of two days, only a lateness of zero against its plan."""
    clock.set(clock.now() - timedelta(days=2))  # Saturday 09:00
    h = await make_harness(BASE)
    await h.fire("alertname=Disk", "severity=warning")
    await h.fast_forward(days=2)
    h.notifier.expect("alice", "sms", "Disk")
    h.notifier.assert_no_more()
    assert metric(h, "pager_page_latency_seconds_count") == 0
    assert metric(h, "pager_notification_lateness_seconds_count") == 1
    assert metric(h, "pager_notification_lateness_seconds_sum") == 0


async def test_the_throttle_holds_across_claims(make_harness):
    """Claims of a slot's worth at a time still count every page in flight."""
    h = await make_harness(BASE.replace("P1: {channels: [sms, voice]", "P1: {channels: [sms]"))
    gate = h.notifier.hold("alice")
    for i in range(8):
        await h.fire(f"alertname=Storm{i}", "severity=critical")
    await h.pager.engine.tick()
    gate.set()
    await h.settle()
    for _ in range(5):  # the default limit: 5 SMS in 15 minutes; 3 wait in a bundle
        h.notifier.expect("alice", "sms", "Reply")
    h.notifier.assert_no_more()
    assert (await states(h))["throttled"] == 3
