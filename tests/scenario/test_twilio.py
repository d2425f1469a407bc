"""Twilio end to end: the real TwilioNotifier against FakeTwilio, and FakeTwilio
driving the daemon's webhooks (signed) through its real HTTP server.

Each scenario expects every SMS and call and ends with `assert_no_more()`, so
a double page fails. Time is the FakeClock's: nothing sleeps.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from tests.fakes.fake_twilio import FakeTwilio, spoken
from tests.polling import eventually
from tests.scenario.conftest import MakeHarness
from tests.scenario.policies import BASE
from tests.scenario.twilio_harness import (
    ALICE,
    BOB,
    PUBLIC_URL,
    STRANGER,
    TwilioHarness,
)

CRITICAL = ("alertname=ApiDown", "severity=critical", "service=api")
# For scenarios that no database can change (signature checks, menus): SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("db_kind", ["sqlite"])


async def paged(h: TwilioHarness, *labels: str, summary: str = "it broke") -> int:
    """Fires an alert and consumes alice's first SMS page for it."""
    incident = await h.fire(*(labels or CRITICAL), summary=summary)
    await h.settle()
    h.fake.expect_sms(ALICE, f"#{incident}", f"Reply {incident}A")
    return incident


# --- acknowledging by SMS reply -------------------------------------------------


@pytest.mark.parametrize("form", ["{n}A", "ACK {n}", "A {n}", "a {n}", "A", "ack"])
async def test_sms_reply_acknowledges(make_twilio_harness: MakeHarness, form: str) -> None:
    h = await make_twilio_harness(BASE)
    incident = await h.fire(*CRITICAL, summary="API is down")
    await h.settle()
    page = h.fake.expect_sms(ALICE, "[P1]", f"#{incident}", "API is down", f"Reply {incident}A")
    assert page.status_callback == f"{PUBLIC_URL}/twilio/status?n=1"

    reply = await h.reply(ALICE, form.format(n=incident))

    assert reply.status == 200
    assert reply.messages == [f"Acknowledged #{incident}."]
    h.fake.expect_sms(ALICE, "Acknowledged", f"#{incident}")
    assert await h.state(incident) == ("acknowledged", "alice")
    assert await h.via(incident, "acknowledged") == ["sms"]
    await h.fast_forward(minutes=30)  # no voice at 1m, no bob at 5m
    h.fake.assert_no_more()


async def test_bare_reply_acts_on_the_newest_page(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    older = await paged(h, "alertname=First", "severity=critical")
    await h.fast_forward(seconds=20)
    newer = await paged(h, "alertname=Second", "severity=critical")

    await h.reply(ALICE, "A")

    h.fake.expect_sms(ALICE, f"Acknowledged #{newer}.")
    assert await h.state(newer) == ("acknowledged", "alice")
    assert await h.state(older) == ("triggered", None)
    await h.fast_forward(seconds=40)  # the older one still pages: voice at 1m
    await h.expect_voice(ALICE, f"Incident {older}")
    h.fake.assert_no_more()
    await h.reply(ALICE, f"{older}A")
    h.fake.expect_sms(ALICE, f"Acknowledged #{older}.")
    await h.fast_forward(minutes=30)
    h.fake.assert_no_more()


async def test_bare_reply_is_not_taken_by_an_older_unknown_send(
    make_twilio_harness: MakeHarness,
) -> None:
    """A send that timed out has no sent_at: it must not sort as the newest page
    (PostgreSQL puts NULLs first in a descending order, SQLite last)."""
    h = await make_twilio_harness(BASE, send_timeout=0.2)
    # The first SMS hangs past the send timeout, once, and Twilio cannot be asked about it.
    h.fake.hang(ALICE, 5.0, created=False)
    h.fake.lists_fail()
    older = await h.fire("alertname=First", "severity=critical")
    await h.fast_forward(seconds=5)  # Twilio is asked 5 s after the unknown send
    h.fake.expect_sms(ALICE, f"#{older}")  # the P1 page sent once more after "unknown"
    assert [n[2] for n in await h.notifications(older)] == ["unknown", "pending", "sent"]
    await h.fast_forward(seconds=15)
    newer = await paged(h, "alertname=Second", "severity=critical")

    await h.reply(ALICE, "A")

    h.fake.expect_sms(ALICE, f"Acknowledged #{newer}.")
    assert await h.state(older) == ("triggered", None)
    h.fake.assert_no_more()


@SQLITE_ONLY
async def test_unknown_word_gets_help_and_changes_nothing(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    await h.reply(ALICE, "on it")
    h.fake.expect_sms(ALICE, "reply 42A to ack")
    assert await h.state(incident) == ("triggered", None)
    h.fake.assert_no_more()


async def test_unknown_number_is_ignored_and_counted(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    before = len(await h.events(incident))

    reply = await h.reply(STRANGER, f"{incident}A")

    assert (reply.status, reply.messages) == (200, [])
    assert h.metric("pager_inbound_ignored_total", channel="sms") == 1
    assert await h.state(incident) == ("triggered", None)
    assert len(await h.events(incident)) == before
    h.fake.assert_no_more()


# --- signatures -----------------------------------------------------------------


def _sms_form(body: str) -> dict[str, str]:
    return {"MessageSid": "SM" + "0" * 32, "From": ALICE, "To": "+15005550006", "Body": body}


@SQLITE_ONLY
@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(None, id="missing"),
        pytest.param("bm90IGEgc2lnbmF0dXJl", id="garbage"),
        pytest.param("wrong-token", id="other-token"),
        pytest.param("other-url", id="other-url"),
    ],
)
async def test_bad_signature_is_refused_and_changes_nothing(
    make_twilio_harness: MakeHarness, fake: FakeTwilio, signature: str | None
) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    form = _sms_form(f"{incident}A")
    url = f"{PUBLIC_URL}/twilio/sms"
    headers = {}
    if signature == "wrong-token":
        headers["X-Twilio-Signature"] = RequestValidator("x" * 32).compute_signature(url, form)
    elif signature == "other-url":  # signed by Twilio, but for someone else's endpoint
        other = "https://elsewhere.example.test/twilio/sms"
        headers["X-Twilio-Signature"] = RequestValidator(fake.auth_token).compute_signature(
            other, form
        )
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature

    resp = await h.client.post("/twilio/sms", data=form, headers=headers)

    assert resp.status == 403
    assert "signature" in (await resp.json())["error"]
    assert h.metric("pager_webhook_rejected_total", reason="bad_signature") == 1
    assert await h.state(incident) == ("triggered", None)
    h.fake.assert_no_more()


@SQLITE_ONLY
@pytest.mark.parametrize("signed_for", [None, "/twilio/status?n=2"], ids=["unsigned", "replayed"])
async def test_forged_status_callback_does_not_fall_back(
    make_twilio_harness: MakeHarness, fake: FakeTwilio, signed_for: str | None
) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    form = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    headers = {}
    if signed_for is not None:  # a genuine callback of another notification, replayed
        validator = RequestValidator(fake.auth_token)
        headers["X-Twilio-Signature"] = validator.compute_signature(PUBLIC_URL + signed_for, form)

    resp = await h.client.post("/twilio/status?n=1", data=form, headers=headers)

    assert resp.status == 403
    await h.fast_forward(seconds=59)
    h.fake.assert_no_more()  # the voice call still waits for its minute
    assert await h.notifications(incident) == [
        ("alice", "sms", "sent"),
        ("alice", "voice", "pending"),
    ]


# --- delivery failures ----------------------------------------------------------


@pytest.mark.parametrize("code", [21610, 21211])
async def test_permanent_sms_error_falls_back_to_voice_at_once(
    make_twilio_harness: MakeHarness, code: int
) -> None:
    h = await make_twilio_harness(BASE)
    h.fake.fail_times(ALICE, 1, status=400, code=code)  # the SMS; the call goes through
    incident = await h.fire(*CRITICAL)
    await h.settle()

    assert [(r.kind, r.status) for r in h.fake.attempts(ALICE)] == [("sms", 400), ("voice", 201)]
    await h.expect_voice(ALICE, f"Incident {incident}", "Press 1 to acknowledge")
    detail = await h.incident(incident)
    assert [(n["channel"], n["state"], n["error_code"]) for n in detail["notifications"]] == [
        ("sms", "failed_perm", code),
        ("voice", "sent", None),
    ]
    assert "fallback" in await h.events(incident)
    await h.fast_forward(minutes=4, seconds=59)
    h.fake.assert_no_more()


async def test_undelivered_sms_falls_back_to_voice(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.fast_forward(seconds=10)
    page = h.fake.expect_sms(ALICE, f"#{incident}")
    await h.status(page.sid, "sent")

    reply = await h.status(page.sid, "undelivered", error_code=30003)
    await h.settle()

    assert reply.status == 204
    call = await h.expect_voice(ALICE, f"Incident {incident}")
    assert h.fake.attempts(ALICE)[-1] is call
    assert await h.notifications(incident) == [
        ("alice", "sms", "failed_perm"),
        ("alice", "voice", "sent"),
    ]
    await h.fast_forward(minutes=4)
    h.fake.assert_no_more()


async def test_statuses_only_move_forward(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    page = h.fake.sent[0]
    await h.status(page.sid, "delivered")
    assert (await h.notifications(incident))[0] == ("alice", "sms", "delivered")

    await h.status(page.sid, "sent")  # late and out of order
    await h.status(page.sid, "queued")

    detail = await h.incident(incident)
    first = detail["notifications"][0]
    assert (first["state"], first["delivered_at"] is not None) == ("delivered", True)
    assert [e["kind"] for e in detail["timeline"]].count("notification_delivered") == 1
    h.fake.assert_no_more()


async def test_status_callback_before_the_send_is_recorded(
    make_twilio_harness: MakeHarness,
) -> None:
    """Twilio may call back before the sender commits the send's result (here
    Twilio takes the message at once and answers the request late): the row
    keeps the callback's state *and* the send's facts, so the throttle still
    counts it."""
    # The send's answer waits for the test, not for a wall-clock delay that a
    # loaded machine could outrun (the send timeout only bounds a broken test).
    h = await make_twilio_harness(BASE, send_timeout=60.0)
    answer = h.fake.hold(ALICE)  # created at once, answered when set
    incident = await h.fire(*CRITICAL)
    tick = asyncio.create_task(h.settle())
    page = await _accepted(h.fake, ALICE)
    assert (await h.notifications(incident))[0] == ("alice", "sms", "sending")

    await h.status(page.sid, "delivered")
    assert not tick.done()  # the callback came first: the send is still waiting
    answer.set()
    await tick

    h.fake.expect_sms(ALICE, f"#{incident}")
    detail = await h.incident(incident)
    first = detail["notifications"][0]
    assert (first["state"], first["provider_id"]) == ("delivered", page.sid)
    assert first["sent_at"] is not None
    assert first["delivered_at"] is not None
    assert "notification_sent" in await h.events(incident)
    assert h.metric("pager_notifications_total", channel="sms", outcome="sent") == 1
    h.fake.assert_no_more()


async def _accepted(fake: FakeTwilio, to: str) -> Any:
    """Waits until Twilio took a message to `to` (a real HTTP request, in real time)."""

    def taken() -> list[Any]:
        return [r for r in fake.attempts(to) if r.sid]

    return (await eventually(taken, within=10, what=f"a message to {to}"))[0]


async def test_server_error_is_retried_with_backoff(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    h.fake.fail_times(ALICE, 1, 500)
    incident = await h.fire(*CRITICAL)
    await h.settle()
    assert [r.status for r in h.fake.attempts(ALICE)] == [500]
    assert (await h.notifications(incident))[0] == ("alice", "sms", "failed_temp")

    await h.fast_forward(seconds=9)
    assert len(h.fake.attempts(ALICE)) == 1  # backing off
    await h.fast_forward(seconds=1)

    assert [r.status for r in h.fake.attempts(ALICE)] == [500, 201]
    page = h.fake.expect_sms(ALICE, f"#{incident}")
    await h.status(page.sid, "delivered")
    first = (await h.incident(incident))["notifications"][0]
    assert (first["state"], first["attempts"], first["provider_id"]) == ("delivered", 2, page.sid)
    assert h.metric("pager_notifications_total", channel="sms", outcome="failed_temp") == 1
    await h.reply(ALICE, "A")
    h.fake.expect_sms(ALICE, "Acknowledged")
    await h.fast_forward(minutes=10)
    h.fake.assert_no_more()


async def test_unreachable_person_escalates_early(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    h.fake.fail(ALICE, code=21211)  # every SMS and call to alice
    incident = await h.fire(*CRITICAL)
    await h.settle()

    assert [(r.kind, r.status) for r in h.fake.attempts(ALICE)] == [("sms", 400), ("voice", 400)]
    h.fake.expect_sms(BOB, f"#{incident}")  # at once, not after the 5m ack timeout
    events = await h.events(incident)
    assert {"unreachable", "level_unreachable"} <= set(events)
    assert (await h.incident(incident))["escalation"]["level"] == 2
    await h.fast_forward(minutes=9, seconds=59)
    h.fake.assert_no_more()


# --- voice ----------------------------------------------------------------------


async def voice_page(h: TwilioHarness) -> tuple[int, Any]:
    """An incident whose SMS went unanswered: the call at 1m, answered by alice."""
    incident = await paged(h)
    await h.fast_forward(minutes=1)
    call = await h.expect_voice(ALICE, f"Incident {incident}", "Press 1 to acknowledge")
    assert call.machine_detection == "Enable"
    assert call.gather_action == f"{PUBLIC_URL}/twilio/voice/gather?n=2"
    return incident, call


async def test_voice_press_1_acknowledges(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    incident, call = await voice_page(h)

    said = await h.press(call, "1")

    assert f"Acknowledged #{incident}" in spoken(said)
    assert await h.state(incident) == ("acknowledged", "alice")
    assert await h.via(incident, "acknowledged") == ["voice"]
    await h.fast_forward(minutes=30)
    h.fake.assert_no_more()


async def test_call_answered_after_an_ack_says_so_and_asks_nothing(
    make_twilio_harness: MakeHarness,
) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    await h.fast_forward(minutes=1)
    call = h.fake.expect_call(ALICE)  # ringing, not answered yet
    await h.reply(ALICE, f"{incident}A")  # she acks by SMS meanwhile
    h.fake.expect_sms(ALICE, f"Acknowledged #{incident}")
    said = await h.answer(call)
    assert f"Incident {incident} was already acknowledged by alice" in spoken(said)
    assert "<Gather" not in said
    await h.fast_forward(minutes=30)
    h.fake.assert_no_more()


async def test_voice_press_2_escalates(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    incident, call = await voice_page(h)

    said = await h.press(call, "2")
    await h.settle()

    assert f"Escalated #{incident}" in spoken(said)
    h.fake.expect_sms(BOB, f"#{incident}")
    assert (await h.incident(incident))["escalation"]["level"] == 2
    await h.fast_forward(minutes=9, seconds=59)
    h.fake.assert_no_more()


async def test_voice_press_3_resolves(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    incident, call = await voice_page(h)

    said = await h.press(call, "3")
    await h.settle()

    assert f"Resolved #{incident}" in spoken(said)
    detail = await h.incident(incident)
    assert (detail["state"], detail["resolved_by"]) == ("resolved", "alice")
    # notify_on_resolve tells everyone paged, except alice, who resolved it herself
    await h.fast_forward(minutes=30)
    h.fake.assert_no_more()


@SQLITE_ONLY
@pytest.mark.parametrize("digit", ["9", "*", ""])
async def test_voice_other_key_repeats_the_menu(
    make_twilio_harness: MakeHarness, digit: str
) -> None:
    h = await make_twilio_harness(BASE)
    incident, call = await voice_page(h)

    said = await h.press(call, digit)

    assert "Press 1 to acknowledge" in spoken(said)
    assert call.gather_action == f"{PUBLIC_URL}/twilio/voice/gather?n=2"
    assert await h.state(incident) == ("triggered", None)
    await h.press(call, "1")  # the menu works the second time round
    assert await h.state(incident) == ("acknowledged", "alice")
    h.fake.assert_no_more()


async def test_machine_answered_call_leaves_a_message_and_keeps_escalating(
    make_twilio_harness: MakeHarness,
) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    await h.fast_forward(minutes=1)
    call = h.fake.expect_call(ALICE)

    twiml = await h.answer(call, answered_by="machine_start")

    assert f"Incident {incident}" in spoken(twiml)
    assert "<Gather" not in twiml
    assert call.gather_action is None
    assert await h.state(incident) == ("triggered", None)
    await h.fast_forward(minutes=3, seconds=59)
    h.fake.assert_no_more()
    await h.fast_forward(seconds=1)
    h.fake.expect_sms(BOB, f"#{incident}")
    h.fake.assert_no_more()


# --- storms and bundles ---------------------------------------------------------

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
  P1: {channels: [sms], notify_on_resolve: true}
throttle:
  sms: {per_15m: 5, per_1h: 11}
rules:
  - {matchers: ['severity="critical"'], priority: P1, escalation: platform}
default: {priority: P1, escalation: platform}
"""


async def test_storm_is_throttled_into_one_bundle_acked_by_one_reply(
    make_twilio_harness: MakeHarness,
) -> None:
    h = await make_twilio_harness(STORM)
    incidents = []
    for i in range(20):  # one every 5 seconds: the last 15 within one bundle window
        incidents.append(await h.fire(f"alertname=Storm{i}", "severity=critical"))
        await h.fast_forward(seconds=5)
    for incident in incidents[:5]:
        h.fake.expect_sms(ALICE, f"#{incident} ")
    h.fake.assert_no_more()
    throttled = incidents[5:]
    for incident in throttled:
        assert "throttled" in await h.events(incident)
    await h.fast_forward(seconds=44)  # 2:24; the first was throttled at 0:25
    h.fake.assert_no_more()

    await h.fast_forward(seconds=1)  # one bundle window after the first was throttled

    bundle = h.fake.expect_sms(ALICE, "[P1] 15 more incidents", "Reply A to ack all")
    # by title, the newest first
    assert f": #{throttled[-1]} Storm19, #{throttled[-2]} Storm18, " in (bundle.body or "")
    h.fake.assert_no_more()
    await h.reply(ALICE, "A")
    # the first ten by number, then how many more (one short reply, however many)
    h.fake.expect_sms(ALICE, "Acknowledged", f"#{throttled[0]}", f"#{throttled[9]} and 5 more.")
    for incident in throttled:
        assert await h.state(incident) == ("acknowledged", "alice")
    for incident in incidents[:5]:
        assert await h.state(incident) == ("triggered", None)
    await h.fast_forward(hours=1)
    h.fake.assert_no_more()


# --- resolve notices ------------------------------------------------------------


async def test_resolved_by_alertmanager_tells_everyone_paged(
    make_twilio_harness: MakeHarness,
) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    await h.fast_forward(minutes=5)
    await h.expect_voice(ALICE)
    h.fake.expect_sms(BOB, f"#{incident}")

    await h.fire(*CRITICAL, status="resolved")
    await h.settle()

    h.fake.expect_sms(ALICE, "RESOLVED", f"#{incident}")
    h.fake.expect_sms(BOB, "RESOLVED", f"#{incident}")
    assert (await h.incident(incident))["state"] == "resolved"
    await h.fast_forward(hours=1)
    h.fake.assert_no_more()


STORM_VOICE = STORM.replace(
    "notify: [{channel: sms}]", "notify: [{channel: sms}, {channel: voice, after: 1m}]"
).replace("channels: [sms]", "channels: [sms, voice]")


async def test_voice_bundle_is_spoken_and_acknowledged_by_key(
    make_twilio_harness: MakeHarness,
) -> None:
    h = await make_twilio_harness(STORM_VOICE)
    incidents = []
    for i in range(20):
        incidents.append(await h.fire(f"alertname=Storm{i}", "severity=critical"))
        await h.fast_forward(seconds=5)
    for incident in incidents[:5]:
        h.fake.expect_sms(ALICE, f"#{incident} ")
    for _ in incidents[:3]:  # voice allows 3 per 15 minutes (the calls at 1:00-1:10)
        h.fake.expect_call(ALICE)
    h.fake.assert_no_more()

    await h.fast_forward(seconds=45)  # 2:25: the SMS bundle's window
    h.fake.expect_sms(ALICE, "15 more incidents")
    await h.reply(ALICE, "A")
    h.fake.expect_sms(ALICE, f"Acknowledged #{incidents[5]}")
    h.fake.assert_no_more()
    await h.fast_forward(seconds=49)
    h.fake.assert_no_more()
    await h.fast_forward(seconds=1)  # 3:15: the voice bundle's window (from 1:15)
    call = await h.expect_voice(
        ALICE,
        # the SMS bundle's incidents were acknowledged meanwhile; the newest first
        f"2 more incidents: incident {incidents[4]}, Storm4; incident {incidents[3]}, Storm3.",
        "Press 1 to acknowledge",
    )
    assert "Reply" not in call.spoken()

    said = await h.press(call, "1")

    assert f"Acknowledged #{incidents[3]}, #{incidents[4]}." in spoken(said)
    for incident in incidents[3:]:
        assert await h.state(incident) == ("acknowledged", "alice")
    for incident in incidents[:3]:
        assert await h.state(incident) == ("triggered", None)
    await h.fast_forward(hours=3)  # the rest exhaust their one level: nothing more
    h.fake.assert_no_more()
