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
    h.notifier.expect("alice", "sms", "[P1] #1")
    h.notifier.expect("alice", "sms", "OPENED")  # her FYI counts apart from her pages
    await h.fire("alertname=Two", "severity=critical")
    await h.fire("alertname=Three", "severity=critical")
    await h.settle()
    h.notifier.expect("alice", "sms", "[P1] #2")
    h.notifier.expect("alice", "sms", "[P1] #3")
    h.notifier.expect("alice", "sms", "OPENED")
    h.notifier.expect("alice", "sms", "OPENED")
    h.notifier.assert_no_more()
