"""Storms bundle, they do not delay (issue 14): beyond the throttle a person's
pages go out as one bundle within the policy's `bundle_window`, naming the
incidents by title, highest priority first, so a P1 that opens during a storm
is not held until the 15-minute window frees.

The real TwilioNotifier against FakeTwilio, on the FakeClock; each scenario
expects every SMS and call and ends with `assert_no_more()`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.fakes.fake_twilio import spoken
from tests.harness import WEBHOOK_TOKEN
from tests.scenario.conftest import MakeHarness
from tests.scenario.twilio_harness import ALICE, TwilioHarness

STORM = """
people:
  - {id: alice, phone: "+15550100001", notify: [{channel: sms}]}
rotations:
  - {id: primary, timezone: UTC, shift: 1w, handoff: "2026-01-05T00:00", members: [alice]}
escalation_policies:
  - id: platform
    levels:
      - {targets: [rotation:primary], ack_timeout: 2h}
priorities:
  P1: {channels: [sms]}
  P2: {channels: [sms]}
  P3: {channels: [sms]}
throttle:
  bundle_window: 2m
  sms: {per_15m: 5, per_1h: 11}
  voice: {per_15m: 3, per_1h: 7}
rules:
  - matchers: ['alertname="Watchdog"']
    heartbeat: {expect_every: 5m, priority: P1, escalation: platform}
  - {matchers: ['severity="critical"'], priority: P1, escalation: platform}
  - {matchers: ['severity="warning"'], priority: P2, escalation: platform}
default: {priority: P3, escalation: platform}
"""


def watchdog() -> dict[str, Any]:
    alert = {
        "status": "firing",
        "labels": {"alertname": "Watchdog", "severity": "none"},
        "annotations": {"summary": "the pipeline is alive"},
        "startsAt": "2026-01-05T09:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "a1b2c3d4e5f60718",
    }
    return {
        "version": "4",
        "status": "firing",
        "receiver": "pager",
        "groupKey": '{}:{alertname="Watchdog"}',
        "alerts": [alert],
    }


async def test_a_p1_opening_after_a_storm_of_50_reaches_the_on_call_within_the_window(
    make_twilio_harness: MakeHarness,
) -> None:
    h = await make_twilio_harness(STORM)
    start = h.clock.now()
    storm: list[int] = []
    for i in range(50):  # one every 7 s, 0:00-5:43; the Watchdog pings once at 1:03
        storm.append(await h.fire(f"alertname=Storm{i}", "severity=critical"))
        if i == 9:
            assert (await h.post("/api/v1/alerts/alertmanager", watchdog(), WEBHOOK_TOKEN))[
                "incidents"
            ] == []
        await h.fast_forward(seconds=7)
    for incident in storm[:5]:
        h.fake.expect_sms(ALICE, f"#{incident} Storm")
    # the limits are spent by 0:28; the rest go in bundles, one bundle window apart
    h.fake.expect_sms(ALICE, "[P1] 18 more incidents", f"#{storm[22]} Storm22")  # 2:35
    h.fake.expect_sms(ALICE, "[P1] 18 more incidents", f"#{storm[40]} Storm40")  # 4:41
    h.fake.assert_no_more()

    await h.fast_forward(timedelta(minutes=6, seconds=3) - (h.clock.now() - start))
    [watch] = [i for i in await open_incidents(h) if i["title"] == "Heartbeat Watchdog missing"]
    assert watch["priority"] == "P1"
    opened = h.clock.now()
    h.fake.assert_no_more()  # the on-call is throttled: the page waits for the bundle
    [held] = [e for e in (await h.incident(watch["id"]))["timeline"] if e["kind"] == "throttled"]
    assert datetime.fromisoformat(held["detail"]["bundle_due"]) - opened <= timedelta(minutes=2)
    await h.fast_forward(minutes=2)

    bundle = h.fake.expect_sms(ALICE, "[P1] 10 more incidents: ", "Reply A to ack all")
    body = bundle.body or ""
    assert body.startswith(f"[P1] 10 more incidents: #{watch['id']} Heartbeat Watchdog missing, ")
    assert f"#{storm[49]} Storm49" in body  # then the storm's newest
    sent = await first_bundle_time(h)
    assert sent - opened <= timedelta(minutes=2)
    h.fake.assert_no_more()

    await h.reply(ALICE, "A")  # acknowledges all ten, the Watchdog too
    h.fake.expect_sms(ALICE, "Acknowledged", f"#{storm[41]}", f"#{watch['id']}")
    assert await h.state(watch["id"]) == ("acknowledged", "alice")
    for incident in storm[41:]:
        assert await h.state(incident) == ("acknowledged", "alice")
    for incident in storm[:41]:
        assert await h.state(incident) == ("triggered", None)
    await h.fast_forward(hours=3)
    h.fake.assert_no_more()


MIXED = STORM.replace("notify: [{channel: sms}]", "notify: [{channel: sms}, {channel: voice}]")
for _p in ("P1", "P2", "P3"):
    MIXED = MIXED.replace(f"{_p}: {{channels: [sms]}}", f"{_p}: {{channels: [sms, voice]}}")
MIXED = (
    MIXED.replace("sms: {per_15m: 5,", "sms: {per_15m: 1,")
    .replace("voice: {per_15m: 3,", "voice: {per_15m: 1,")
    .replace("""  - matchers: ['alertname="Watchdog"']\n""", "")
    .replace("    heartbeat: {expect_every: 5m, priority: P1, escalation: platform}\n", "")
)


async def test_a_bundle_lists_titles_highest_priority_first(
    make_twilio_harness: MakeHarness,
) -> None:
    h = await make_twilio_harness(MIXED)
    first = await h.fire("alertname=LogsLate", "severity=info")  # P3
    await h.settle()
    h.fake.expect_sms(ALICE, f"[P3] #{first} LogsLate")
    h.fake.expect_call(ALICE)
    fired = [
        await h.fire("alertname=DiskFilling", "severity=warning"),  # P2
        await h.fire("alertname=CertExpiring", "severity=info"),  # P3
        await h.fire("alertname=ApiDown", "severity=critical"),  # P1
        await h.fire("alertname=QueueBacklog", "severity=warning"),  # P2
    ]
    disk, cert, api, queue = fired
    await h.fast_forward(minutes=1, seconds=59)
    h.fake.assert_no_more()  # one of each channel per 15 minutes: all four wait
    await h.fast_forward(seconds=1)

    sms = h.fake.expect_sms(ALICE, "more incidents")
    assert sms.body == (
        f"[P1] 4 more incidents: #{api} ApiDown, #{queue} QueueBacklog, #{disk} DiskFilling, "
        f"#{cert} CertExpiring. Reply A to ack all"
    )
    call = await h.expect_voice(ALICE)
    assert (
        f"This is pager, priority 1. 4 more incidents: incident {api}, ApiDown; "
        f"incident {queue}, QueueBacklog; incident {disk}, DiskFilling; "
        f"incident {cert}, CertExpiring. For all of them: Press 1"
    ) in spoken(await h.answer(call))
    said = await h.press(call, "1")  # the call's key acts on all four
    assert f"Acknowledged #{disk}, #{cert}, #{api}, #{queue}." in spoken(said)
    for incident in fired:
        assert await h.state(incident) == ("acknowledged", "alice")
    await h.fast_forward(hours=3)
    h.fake.assert_no_more()


async def open_incidents(h: TwilioHarness) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await h.get("/api/v1/incidents"))["incidents"]
    return found


async def first_bundle_time(h: TwilioHarness) -> Any:
    """When the newest bundle was handed to the provider (its sent_at)."""
    from sqlalchemy import select

    from pager.store.models import Notification

    async with h.pager.db.read() as session:
        rows = await session.execute(
            select(Notification.sent_at)
            .where(Notification.kind == "bundle", Notification.sent_at.is_not(None))
            .order_by(Notification.sent_at.desc())
        )
        return rows.scalars().first()
