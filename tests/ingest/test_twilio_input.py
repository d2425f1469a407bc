"""Twilio webhooks: bad input is a 400 that changes nothing, and a replayed
signed request does not act again (issue 12).

Bad input: numbers that are digits only to Python (`n=²`), ids and error codes
past the integer columns, NUL characters PostgreSQL cannot store, a form that
is not UTF-8 (before the signature check: there is nothing to check it over),
a NUL in a header (aiohttp's own parser refuses it).
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.scenario.conftest import MakeHarness
from tests.scenario.policies import BASE
from tests.scenario.test_twilio import CRITICAL, paged
from tests.scenario.twilio_harness import ALICE, BOB, ERIN, TwilioHarness
from tests.snapshot import snapshot

HUGE = "99999999999999999999"
SMS = {"MessageSid": "SM" + "9" * 32, "From": ALICE, "To": "+15005550006"}
STATUS = {"MessageSid": "SM1", "MessageStatus": "failed"}
KEY = {"CallSid": "CA" + "9" * 32, "Digits": "1"}

BAD = [
    ("/twilio/status?n=%C2%B2", STATUS, "query parameter n (the notification id) '²' is not"),
    (f"/twilio/status?n={HUGE}", STATUS, "is out of range"),
    (f"/twilio/voice/gather?n={HUGE}", KEY, "is out of range"),
    (f"/twilio/voice?n={HUGE}", {"CallSid": "CA1"}, "is out of range"),
    ("/twilio/status", STATUS, "query parameter n (the notification id) is required"),
    ("/twilio/status?n=1", {**STATUS, "ErrorCode": "²"}, "ErrorCode: Input should be a valid"),
    ("/twilio/status?n=1", {**STATUS, "ErrorCode": HUGE}, "ErrorCode: Input should be less"),
    ("/twilio/status?n=1", {"MessageStatus": "failed"}, "MessageSid or CallSid is required"),
    ("/twilio/status?n=1", {**STATUS, "MessageSid": "SM1\x00"}, "MessageSid: String should"),
    ("/twilio/sms", {**SMS, "Body": "1U rolled\x00back"}, "Body: must not contain a NUL"),
    ("/twilio/sms", {**SMS, "From": ALICE + "\x00"}, "From: must not contain a NUL"),
    ("/twilio/sms", {**SMS, "Body": "1A" + " " * 2000}, "Body: String should have at most"),
    ("/twilio/sms", {"From": ALICE, "Body": "1A"}, "MessageSid: Field required"),
    ("/twilio/voice/gather?n=2", {"Digits": "1"}, "CallSid: Field required"),
]


@pytest.mark.parametrize(("path", "form", "message"), BAD, ids=[b[2] for b in BAD])
async def test_bad_signed_form_is_400_and_changes_nothing(
    make_twilio_harness: MakeHarness, path: str, form: dict[str, str], message: str
) -> None:
    h = await make_twilio_harness(BASE)
    await paged(h)
    before = await snapshot(h.pager.db)

    status, text = await h.signed_post(path, form)

    assert status == 400, text
    assert message in json.loads(text)["error"]
    assert await snapshot(h.pager.db) == before
    assert h.metric("pager_webhook_rejected_total", reason="malformed") == 1
    await h.fast_forward(seconds=59)
    h.fake.assert_no_more()


async def raw_request(h: TwilioHarness, head: bytes, body: bytes) -> bytes:
    url = h.client.make_url("/")
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


@pytest.mark.parametrize("db_kind", ["sqlite"])
@pytest.mark.parametrize(
    ("extra_header", "body", "answer"),
    [
        (b"", b"MessageSid=SM1&From=%2B15550100001&Body=\xff\xfeA", b"not a URL-encoded UTF-8"),
        (b"X-Other: a\x00b\r\n", b"MessageSid=SM1&Body=1A", b"Invalid"),
    ],
    ids=["not-utf-8", "nul-header"],
)
async def test_unreadable_request_is_400_before_the_signature(
    make_twilio_harness: MakeHarness, extra_header: bytes, body: bytes, answer: bytes
) -> None:
    h = await make_twilio_harness(BASE)
    await paged(h)
    before = await snapshot(h.pager.db)
    head = (
        b"POST /twilio/sms HTTP/1.1\r\nHost: pager\r\nX-Twilio-Signature: c2lnbmVk\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n" + extra_header
    )

    got = await raw_request(h, head, body)

    assert got.split(b" ", 2)[1] == b"400", got
    assert answer in got
    assert await snapshot(h.pager.db) == before
    h.fake.assert_no_more()


# --- replays ----------------------------------------------------------------------


async def test_a_replayed_sms_acts_once(make_twilio_harness: MakeHarness) -> None:
    """One signed "1E" posted five times walked an incident through three levels."""
    h = await make_twilio_harness(BASE)
    incident = await paged(h, *CRITICAL)
    form = {**SMS, "Body": f"{incident}E"}

    answers = [await h.signed_post("/twilio/sms", form) for _ in range(5)]
    await h.settle()

    assert answers == [answers[0]] * 5  # each answered as the first was
    assert f"Escalated #{incident}." in answers[0][1]
    assert (await h.incident(incident))["escalation"]["level"] == 2  # levels count from 1
    assert (await h.events(incident)).count("escalate_requested") == 1
    assert h.metric("pager_inbound_replayed_total", channel="sms") == 4
    h.fake.expect_sms(BOB, f"#{incident}")  # level 2, once; erin (level 3) never
    await h.fast_forward(minutes=9, seconds=59)
    await h.expect_voice(ALICE)  # alice's own call at 1m goes on as before
    h.fake.assert_no_more()
    assert not h.fake.attempts(ERIN)


async def test_a_replayed_keypress_acts_once(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    await h.fast_forward(minutes=1)
    call = await h.expect_voice(ALICE, f"Incident {incident}")
    press = {"CallSid": call.sid, "Digits": "2"}

    first = await h.signed_post("/twilio/voice/gather?n=2", press)
    again = await h.signed_post("/twilio/voice/gather?n=2", press)
    await h.settle()

    assert first == again
    assert f"Escalated #{incident}" in first[1]
    assert (await h.events(incident)).count("escalate_requested") == 1
    assert h.metric("pager_inbound_replayed_total", channel="voice") == 1
    h.fake.expect_sms(BOB, f"#{incident}")
    await h.fast_forward(minutes=9, seconds=59)
    h.fake.assert_no_more()


async def test_a_new_message_with_the_same_words_acts(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    incident = await paged(h)
    await h.signed_post("/twilio/sms", {**SMS, "Body": f"{incident}A"})
    status, text = await h.signed_post(
        "/twilio/sms", {**SMS, "MessageSid": "SM" + "8" * 32, "Body": f"{incident}R"}
    )
    assert (status, f"Resolved #{incident}." in text) == (200, True)
    assert (await h.incident(incident))["state"] == "resolved"
