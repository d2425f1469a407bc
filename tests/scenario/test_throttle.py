"""The throttle holds within one batch and for info messages too."""

from __future__ import annotations

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
    await h.fast_forward(minutes=4, seconds=59)
    h.notifier.assert_no_more()
    await h.fast_forward(minutes=10, seconds=1)  # 15 minutes after the first three
    bundle = h.notifier.expect("alice", "sms", "5 more incidents", "Reply A to ack all")
    assert all(f"#{i}" in bundle.body for i in ids[3:])
    h.notifier.expect("frank", "sms", "5 updates:", "OPENED")
    # levels 2 (bob, at 5m) and 3 (erin, at 15m) were paged in their time, each
    # within the limit; their bundles wait for their own windows
    for person in ("bob", "erin"):
        for _ in range(3):
            h.notifier.expect(person, "sms", "[P1]")
    h.notifier.assert_no_more()
    await h.fast_forward(minutes=5)
    h.notifier.expect("bob", "sms", "5 more incidents")
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
    await h.fast_forward(minutes=14)  # 15 minutes after the first SMS: the bundles go
    h.notifier.expect("alice", "sms", "2 more incidents")  # tried, failed for good
    h.notifier.expect("frank", "sms", "2 updates:")
    for person in ("bob", "erin"):
        for _ in range(3):
            h.notifier.expect(person, "sms", "[P1]")
    h.notifier.assert_no_more()  # her voice window is still full (3 calls at 1m)
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
