"""Handoff notices: an SMS to whoever comes on call, a set time before the
handoff, once per handoff; the person's own setting beats the rotation's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pager.core.page_text import gsm7_length, is_gsm7
from pager.engine.handoffs import HandoffNotices
from tests.web.part2 import PART2_POLICY


def notices(h) -> HandoffNotices:
    p = h.pager
    return HandoffNotices(p.db, p.clock, p.policies, p.engine.wake)


async def test_the_person_coming_on_call_is_told_an_hour_before_once(make_harness):
    h = await make_harness(PART2_POLICY)
    job = notices(h)
    h.clock.set(datetime(2026, 3, 25, 7, 59, tzinfo=UTC))  # Wed; bob takes `daily` at 09:00
    assert await job.run() == 0  # 61 minutes before: not yet
    h.clock.advance(timedelta(minutes=1))
    assert await job.run() == 1
    assert await job.run() == 0  # the run is claimed: never twice
    await h.settle()
    text = (
        "You are on call for daily from Wed 25 Mar 09:00 Europe/London until "
        "Thu 26 Mar 09:00; escalation: platform L3"
    )
    sent = h.notifier.expect("bob", "sms", text)
    assert is_gsm7(sent.body)
    assert gsm7_length(sent.body) <= 160
    h.clock.advance(timedelta(minutes=59))  # 08:59: still nothing new
    assert await job.run() == 0
    h.notifier.assert_no_more()


async def test_across_the_clock_change_and_with_an_override(make_harness):
    h = await make_harness(PART2_POLICY)
    job = notices(h)
    # Sun 29 March: the 09:00 BST handoff is 08:00 UTC; carol has it, alice covers.
    await h.post(
        "/api/v1/overrides",
        {
            "rotation": "daily",
            "person": "alice",
            "replaces": "carol",
            "start": "2026-03-29T09:00",
            "end": "2026-03-30T09:00",
        },
        status=201,
    )
    h.clock.set(datetime(2026, 3, 29, 7, 0, tzinfo=UTC))
    assert await job.run() == 1
    await h.settle()
    # Monday is alice's own shift: she is on call from Sunday until Tuesday.
    h.notifier.expect(
        "alice", "sms", "daily from Sun 29 Mar 09:00 Europe/London until Tue 31 Mar 09:00"
    )
    h.notifier.assert_no_more()


async def test_a_person_sets_their_own_lead_time_or_turns_notices_off(make_harness):
    policy = PART2_POLICY.replace(
        "timezone: Europe/London, notify: [{channel: sms}]}",
        'timezone: Europe/London, notify: [{channel: sms}], handoff_notice: "off"}',
    ).replace(
        'phone: "+15550100003", notify: [{channel: sms}]}',
        'phone: "+15550100003", notify: [{channel: sms}], handoff_notice: 3h}',
    )
    assert 'handoff_notice: "off"' in policy
    assert "handoff_notice: 3h" in policy
    h = await make_harness(policy)
    job = notices(h)
    h.clock.set(datetime(2026, 3, 25, 8, 0, tzinfo=UTC))  # bob's daily handoff in an hour
    assert await job.run() == 0  # bob said off
    h.clock.set(datetime(2026, 3, 26, 6, 0, tzinfo=UTC))  # carol's, Thu 09:00, in 3 hours
    assert await job.run() == 1
    # carol's 3h applies to primary too: her next week starts Mon 6 Apr 09:00 BST (08:00 UTC).
    h.clock.set(datetime(2026, 4, 6, 5, 0, tzinfo=UTC))
    assert await job.run() == 1
    await h.settle()
    h.notifier.expect("carol", "sms", "daily from Thu 26 Mar 09:00")
    h.notifier.expect("carol", "sms", "primary from Mon 6 Apr 09:00 Europe/London until Mon 13 Apr")
    h.notifier.assert_no_more()
