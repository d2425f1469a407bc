"""The throttle holds within one batch and for info messages too."""

from __future__ import annotations

from datetime import timedelta

from tests.scenario.policies import BASE

STORM = (
    BASE.replace(
        "P1: {channels: [sms, voice], ack_expires: 1h, notify_on_resolve: true}",
        "P1: {channels: [sms], stakeholders: [person:frank]}",
    )
    + "throttle: {sms: {per_15m: 3, per_1h: 10}, voice: {per_15m: 3, per_1h: 7}}\n"
)


async def test_a_burst_in_one_batch_stays_within_the_limit(make_harness):
    h = await make_harness(STORM)
    ids = [await h.fire(f"alertname=Storm{i}", "severity=critical") for i in range(8)]
    await h.settle()  # one tick claims all eight pages at once
    for _ in range(3):
        h.notifier.expect("alice", "sms", "[P1]", "Reply")
    # frank, a stakeholder, gets 3 FYIs; the other 5 wait in a digest
    for _ in range(3):
        h.notifier.expect("frank", "sms", "OPENED")
    h.notifier.assert_no_more()
    await h.fast_forward(minutes=1, seconds=59)
    h.notifier.assert_no_more()
    await h.fast_forward(seconds=1)  # one bundle window: the rest go as one bundle
    bundle = h.notifier.expect("alice", "sms", "5 more incidents", "Reply A to ack all")
    assert all(f"#{i} Storm" in bundle.body for i in ids[3:])
    h.notifier.assert_no_more()
    # level 2 (bob, at 5m): 3 pages within the limit, his bundle a window later
    await h.fast_forward(minutes=3)
    for _ in range(3):
        h.notifier.expect("bob", "sms", "[P1]")
    h.notifier.assert_no_more()
    await h.fast_forward(minutes=2)
    h.notifier.expect("bob", "sms", "5 more incidents")
    h.notifier.assert_no_more()
    # 15 minutes after the first three: frank's digest (info waits for the limits)
    # and level 3 (erin), whose bundle is again a window later
    await h.fast_forward(minutes=8)
    h.notifier.expect("frank", "sms", "5 updates:", "OPENED")
    for _ in range(3):
        h.notifier.expect("erin", "sms", "[P1]")
    h.notifier.assert_no_more()
    await h.fast_forward(minutes=2)
    h.notifier.expect("erin", "sms", "5 more incidents")
    h.notifier.assert_no_more()


async def test_info_messages_never_delay_a_page(make_harness):
    h = await make_harness(
        STORM.replace("stakeholders: [person:frank]", "stakeholders: [person:alice]")
    )
    await h.fire("alertname=One", "severity=critical")
    await h.settle()
    h.notifier.expect("alice", "sms", "[P1] #1", "Reply")
    h.notifier.expect("alice", "sms", "OPENED")  # her FYI counts apart from her pages
    await h.fire("alertname=Two", "severity=critical")
    await h.fire("alertname=Three", "severity=critical")
    await h.settle()
    h.notifier.expect("alice", "sms", "[P1] #2", "Reply")
    h.notifier.expect("alice", "sms", "[P1] #3", "Reply")
    h.notifier.expect("alice", "sms", "OPENED")
    h.notifier.expect("alice", "sms", "OPENED")
    h.notifier.assert_no_more()


async def test_a_bundle_that_cannot_reach_falls_back_to_the_next_channel(make_harness):
    from pager.core.outcome import Outcome
    from pager.notify.base import SendResult

    h = await make_harness(STORM.replace("P1: {channels: [sms]", "P1: {channels: [sms, voice]"))
    for i in range(5):
        await h.fire(f"alertname=Storm{i}", "severity=critical")
    await h.settle()
    for _ in range(3):
        h.notifier.expect("alice", "sms", "[P1]")
    for _ in range(3):
        h.notifier.expect("frank", "sms", "OPENED")
    await h.fast_forward(minutes=1)  # alice's voice rule: 3 calls, the other 2 bundled
    for _ in range(3):
        h.notifier.expect("alice", "voice")
    h.notifier.assert_no_more()
    # her number stops taking SMS (she replied STOP): the SMS bundle fails for good
    h.notifier.fail("alice", "sms", SendResult(Outcome.PERMANENT, error="21610", code=21610))
    await h.fast_forward(minutes=1)  # a bundle window after the first SMS: the bundle goes
    h.notifier.expect("alice", "sms", "2 more incidents")  # tried, failed for good
    h.notifier.assert_no_more()  # her voice bundle waits its own window (from 1m)
    await h.fast_forward(minutes=1)
    # one call: the failed SMS bundle merged into her waiting voice bundle
    call = h.notifier.expect("alice", "voice", "2 more incidents", "Press 1")
    assert call.kind == "bundle"
    h.notifier.assert_no_more()
    for incident in (4, 5):  # the two in the bundle: the fallback is on their record
        fell = [
            e["detail"] for e in (await h.incident(incident))["timeline"] if e["kind"] == "fallback"
        ]
        assert fell == [
            {"person": "alice", "from_channel": "sms", "to_channel": "voice", "bundle": True}
        ]


LONG_STORM = """
people:
  - {id: alice, phone: "+15550100001", notify: [{channel: sms}]}
rotations:
  - {id: primary, timezone: UTC, shift: 1w, handoff: "2026-01-05T00:00", members: [alice]}
escalation_policies:
  - id: platform
    levels:
      - {targets: [rotation:primary], ack_timeout: 4h}
priorities:
  P1: {channels: [sms]}
throttle: {bundle_window: 2m, sms: {per_15m: 5, per_1h: 11}}
default: {priority: P1, escalation: platform}
"""


async def test_a_long_storm_keeps_to_the_limits_and_one_bundle_per_window(make_harness):
    """An incident every 50 s for 50 minutes. Every message alice gets is within
    the limits (a bundle counting as one), or a bundle a whole bundle window after
    the last; and every incident reaches her within one bundle window."""
    from sqlalchemy import select

    from pager.store.models import Incident, Notification

    h = await make_harness(LONG_STORM)
    for i in range(60):
        await h.fire(f"alertname=Storm{i}")
        await h.fast_forward(seconds=50)
    await h.fast_forward(minutes=5)  # the last bundle
    async with h.pager.db.read() as session:
        sent = (
            (
                await session.execute(
                    select(Notification)
                    .where(Notification.sent_at.is_not(None))
                    .order_by(Notification.sent_at, Notification.id)
                )
            )
            .scalars()
            .all()
        )
        opened = dict((await session.execute(select(Incident.id, Incident.created_at))).all())
    window, limits = timedelta(minutes=2), ((timedelta(minutes=15), 5), (timedelta(hours=1), 11))
    bundles = [n for n in sent if n.kind == "bundle"]
    over = 0
    for n in sent:
        assert (n.person_id, n.kind) in {("alice", "page"), ("alice", "bundle")}
        within = all(
            sum(1 for m in sent if n.sent_at - span < m.sent_at < n.sent_at) < allowed
            for span, allowed in limits
        )
        if not within:
            over += 1
            assert n.kind == "bundle", f"a page over the limits at {n.sent_at}"
            earlier = [b.sent_at for b in bundles if b.sent_at < n.sent_at]
            assert not earlier or n.sent_at - earlier[-1] >= window
    assert over >= 15  # the storm did go past the limits (a bundle every 2 minutes)
    reached: dict[int, object] = {}
    for n in sent:
        for incident in [n.incident_id] if n.kind == "page" else n.bundle_of or []:
            reached.setdefault(int(incident), n.sent_at)
    assert sorted(reached) == sorted(opened)
    late = {i: reached[i] - opened[i] for i in opened if reached[i] - opened[i] > window}
    assert late == {}
    for _ in sent:
        h.notifier.expect("alice", "sms")
    h.notifier.assert_no_more()
