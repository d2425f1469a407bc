"""Who may act from a phone, and which message a Twilio request is about (issue 14).

* A reply acts only for the people the incident paged, or who are on call for
  its escalation policy now; anyone else in the policy (a stakeholder who was
  told "no action needed", a teammate never paged) gets a short refusal, and
  it is counted.
* A status callback is applied only to the message it names: a signed callback
  whose MessageSid/CallSid is not the notification's is ignored and counted,
  and so is one for a notification that was never handed to Twilio.
* A keypress on a call answered by a machine does not acknowledge.
"""

from __future__ import annotations

import pytest

from tests.scenario.conftest import MakeHarness
from tests.scenario.policies import BASE
from tests.scenario.test_twilio import CRITICAL, paged
from tests.scenario.twilio_harness import ALICE, BOB, CAROL, TwilioHarness
from tests.snapshot import snapshot

FRANK = "+15550100006"
WITH_STAKEHOLDER = BASE.replace(
    "P1: {channels: [sms, voice],", "P1: {channels: [sms, voice], stakeholders: [person:frank],"
)


async def incident_tables(h: TwilioHarness) -> dict[str, object]:
    """Everything but the record of inbound messages (which a refusal adds to)."""
    tables = await snapshot(h.pager.db)
    return {name: rows for name, rows in tables.items() if name != "inbound_messages"}


async def refused(h: TwilioHarness, phone: str, body: str) -> list[str]:
    before = await incident_tables(h)
    reply = await h.reply(phone, body)
    assert reply.status == 200
    assert await incident_tables(h) == before
    return reply.messages


async def test_a_stakeholder_cannot_act_by_sms(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(WITH_STAKEHOLDER)
    incident = await h.fire(*CRITICAL)
    await h.settle()
    h.fake.expect_sms(ALICE, f"#{incident}")
    h.fake.expect_sms(FRANK, f"#{incident}")  # the FYI

    for body in (f"{incident}A", f"{incident}R", f"{incident}E", f"{incident}U all good"):
        assert await refused(h, FRANK, body) == [
            f"You were not paged for #{incident}, so you cannot act on it."
        ]
        h.fake.expect_sms(FRANK, "not paged")
    assert await refused(h, FRANK, "A") == [
        "No page to act on. Reply like 42A with the incident number."
    ]  # an FYI is no page
    h.fake.expect_sms(FRANK, "No page")
    assert h.metric("pager_inbound_refused_total", channel="sms") == 4
    assert (await h.incident(incident))["state"] == "triggered"
    h.fake.assert_no_more()


async def test_someone_never_paged_cannot_act(make_twilio_harness: MakeHarness) -> None:
    """carol is in the primary rotation, but alice is on call this week."""
    h = await make_twilio_harness(BASE)
    incident = await paged(h)

    assert await refused(h, CAROL, f"{incident}R") == [
        f"You were not paged for #{incident}, so you cannot act on it."
    ]
    h.fake.expect_sms(CAROL, "not paged")
    assert h.metric("pager_inbound_refused_total", channel="sms") == 1
    h.fake.assert_no_more()


async def test_whoever_is_on_call_for_its_policy_may_act(make_twilio_harness: MakeHarness) -> None:
    """bob (the secondary, level 2) takes an incident before its escalation reaches him."""
    h = await make_twilio_harness(BASE)
    incident = await paged(h)

    reply = await h.reply(BOB, f"{incident}A")

    assert reply.messages == [f"Acknowledged #{incident}."]
    h.fake.expect_sms(BOB, "Acknowledged")
    assert await h.state(incident) == ("acknowledged", "bob")
    await h.fast_forward(minutes=30)
    h.fake.assert_no_more()


async def test_a_status_callback_of_another_message_is_ignored(
    make_twilio_harness: MakeHarness,
) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    form = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003"}

    status, _ = await h.signed_post("/twilio/status?n=1", form)

    assert status == 204
    assert (await h.notifications(incident))[0] == ("alice", "sms", "sent")
    assert h.metric("pager_status_callbacks_mismatched_total", channel="sms") == 1
    await h.fast_forward(seconds=59)
    h.fake.assert_no_more()  # no fallback call: alice's SMS was not undelivered


async def test_a_callback_for_a_page_not_yet_sent_is_ignored(
    make_twilio_harness: MakeHarness,
) -> None:
    """alice's call (notification 2) waits for its minute: a "completed" for it,
    from any call, marked it delivered, and the call was never made."""
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    form = {"CallSid": "CA" + "e" * 32, "CallStatus": "completed"}

    status, _ = await h.signed_post("/twilio/status?n=2", form)

    assert status == 204
    assert (await h.notifications(incident))[1] == ("alice", "voice", "pending")
    await h.fast_forward(minutes=1)
    await h.expect_voice(ALICE, f"Incident {incident}")
    h.fake.assert_no_more()


async def test_a_keypress_on_a_machine_answered_call_does_not_acknowledge(
    make_twilio_harness: MakeHarness,
) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    await h.fast_forward(minutes=1)
    call = h.fake.expect_call(ALICE)
    await h.answer(call, answered_by="machine_start")

    status, said = await h.signed_post(
        "/twilio/voice/gather?n=2", {"CallSid": call.sid, "Digits": "1"}
    )

    assert (status, "answered by a machine" in said) == (200, True)
    assert await h.state(incident) == ("triggered", None)
    assert h.metric("pager_inbound_refused_total", channel="voice") == 1
    await h.fast_forward(minutes=4)
    h.fake.expect_sms(BOB, f"#{incident}")  # escalation goes on
    h.fake.assert_no_more()


@pytest.mark.parametrize("path", ["/twilio/voice?n=2", "/twilio/voice/gather?n=2"])
async def test_a_call_request_about_another_call_is_ignored(
    make_twilio_harness: MakeHarness, path: str
) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    await h.fast_forward(minutes=1)
    h.fake.expect_call(ALICE)
    form = {"CallSid": "CA" + "d" * 32, "Digits": "1", "AnsweredBy": "machine_start"}

    status, said = await h.signed_post(path, form)

    assert (status, "not the current page" in said) == (200, True)
    assert await h.notifications(incident) == [
        ("alice", "sms", "sent"),
        ("alice", "voice", "sent"),
    ]
    assert await h.state(incident) == ("triggered", None)
    assert h.metric("pager_status_callbacks_mismatched_total", channel="voice") == 1
