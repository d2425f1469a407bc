"""Unknown must not mean dropped (issue 12, cause 3): the real TwilioNotifier
against FakeTwilio, which hangs, cuts connections and refuses list requests.

A send whose request may have reached Twilio is settled by asking Twilio
(GET Messages.json / Calls.json with To, From and DateSent> / StartTime>):
found -> recorded with its sid, once; not found -> sent again; Twilio cannot be
asked -> P1 sent once more, P2 escalated early. Before, an unknown P2 was never
sent at all and an unknown P1 was sent twice blindly.
"""

from __future__ import annotations

from datetime import datetime

from tests.fakes.fake_twilio import FakeTwilio
from tests.scenario.conftest import MakeHarness
from tests.scenario.policies import BASE
from tests.scenario.twilio_harness import ALICE, BOB, FROM, TwilioHarness

P2 = ("alertname=Disk", "severity=warning")  # in hours: Monday 09:00
P1 = ("alertname=ApiDown", "severity=critical", "service=api")


async def unknown_then_settled(h: TwilioHarness, *labels: str) -> int:
    """Fires; the first send times out (0.2 s); 5 s later Twilio is asked."""
    incident = await h.fire(*labels)
    await h.settle()
    assert (await h.notifications(incident))[0][2] == "unknown"
    await h.fast_forward(seconds=5)
    return incident


def listed_since(fake: FakeTwilio, kind: str) -> list[dict[str, str]]:
    return [q for q in fake.list_requests if q["kind"] == kind]


async def test_unknown_p2_that_twilio_took_is_found_and_not_sent_again(
    make_twilio_harness: MakeHarness,
) -> None:
    h = await make_twilio_harness(BASE, send_timeout=0.2)
    h.fake.hang(ALICE, 5.0, created=True)  # Twilio took it; its answer is lost
    incident = await unknown_then_settled(h, *P2)

    page = h.fake.expect_sms(ALICE, f"#{incident}")
    h.fake.assert_no_more()
    first = (await h.incident(incident))["notifications"][0]
    assert (first["state"], first["provider_id"]) == ("sent", page.sid)
    [query] = listed_since(h.fake, "sms")
    assert (query["To"], query["From"]) == (ALICE, FROM)
    assert datetime.fromisoformat(query["DateSent>"]) <= h.clock.now()
    assert h.metric("pager_unknown_sends_resolved_total", result="found") == 1
    await h.fast_forward(minutes=4)
    h.fake.assert_no_more()


async def test_unknown_p2_that_twilio_never_got_is_sent_again(
    make_twilio_harness: MakeHarness,
) -> None:
    h = await make_twilio_harness(BASE, send_timeout=0.2)
    h.fake.hang(ALICE, 5.0, created=False)  # swallowed, then the connection is cut
    incident = await unknown_then_settled(h, *P2)

    h.fake.expect_sms(ALICE, f"#{incident}")  # the second request, accepted
    h.fake.assert_no_more()
    assert [r.status for r in h.fake.attempts(ALICE)] == [0, 201]
    assert (await h.notifications(incident))[0][2] == "sent"
    assert "notification_not_found" in await h.events(incident)


async def test_a_reset_after_twilio_took_it_is_found(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE)
    h.fake.reset(ALICE, created=True)
    incident = await unknown_then_settled(h, *P2)

    h.fake.expect_sms(ALICE, f"#{incident}")
    h.fake.assert_no_more()
    assert (await h.notifications(incident))[0][2] == "sent"


async def test_an_unknown_call_is_found_in_the_calls_list(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE, send_timeout=0.2)
    incident = await h.fire(*P1)
    await h.fast_forward(seconds=59)
    h.fake.expect_sms(ALICE, f"#{incident}")
    h.fake.hang(ALICE, 5.0, created=True)  # her call at 1m
    await h.fast_forward(seconds=6)

    call = h.fake.expect_call(ALICE)
    h.fake.assert_no_more()
    voice = (await h.incident(incident))["notifications"][1]
    assert (voice["channel"], voice["state"], voice["provider_id"]) == ("voice", "sent", call.sid)
    [query] = listed_since(h.fake, "voice")
    assert (query["To"], query["From"]) == (ALICE, FROM)
    assert "StartTime>" in query


async def test_twilio_cannot_be_asked_p1_is_sent_once_more(
    make_twilio_harness: MakeHarness,
) -> None:
    h = await make_twilio_harness(BASE, send_timeout=0.2)
    h.fake.hang(ALICE, 5.0, created=True)
    h.fake.lists_fail()
    incident = await unknown_then_settled(h, *P1)

    h.fake.expect_sms(ALICE, f"#{incident}")
    h.fake.expect_sms(ALICE, f"#{incident}")  # a duplicate beats a miss
    h.fake.assert_no_more()
    assert h.metric("pager_unknown_sends_resolved_total", result="unavailable") == 1


async def test_twilio_cannot_be_asked_p2_escalates_early(make_twilio_harness: MakeHarness) -> None:
    h = await make_twilio_harness(BASE, send_timeout=0.2)
    h.fake.hang(ALICE, 5.0, created=False)
    h.fake.lists_fail()
    incident = await unknown_then_settled(h, *P2)

    h.fake.expect_sms(BOB, f"#{incident}")  # level 2 now, not at the 5-minute ack timeout
    h.fake.assert_no_more()
    assert "unknown_escalated" in await h.events(incident)
    await h.fast_forward(minutes=9)
    h.fake.assert_no_more()


async def test_a_found_sid_is_not_taken_twice(make_twilio_harness: MakeHarness) -> None:
    """Two unknown sends to alice at once, only one of which Twilio took: one is
    found (by its text), the other is sent again."""
    h = await make_twilio_harness(BASE, send_timeout=0.2)
    h.fake.hang(ALICE, 5.0, created=True)
    h.fake.hang(ALICE, 5.0, created=False)
    one = await h.fire("alertname=One", "severity=warning")
    two = await h.fire("alertname=Two", "severity=warning")
    await h.settle()
    await h.fast_forward(seconds=5)

    h.fake.expect_sms(ALICE, f"#{one}")
    h.fake.expect_sms(ALICE, f"#{two}")
    h.fake.assert_no_more()
    sids = [(await h.incident(i))["notifications"][0]["provider_id"] for i in (one, two)]
    assert len(set(sids)) == 2


async def test_retry_after_is_honoured(make_twilio_harness: MakeHarness) -> None:
    """Twilio's 429 asks for 45 s: the retry waits that long, not our 10 s."""
    h = await make_twilio_harness(BASE)
    h.fake.too_many(ALICE, 1, retry_after=45)
    incident = await h.fire(*P2)
    await h.fast_forward(seconds=44)
    assert [r.status for r in h.fake.attempts(ALICE)] == [429]
    await h.fast_forward(seconds=1)
    assert [r.status for r in h.fake.attempts(ALICE)] == [429, 201]
    h.fake.expect_sms(ALICE, f"#{incident}")
    h.fake.assert_no_more()


async def test_a_status_callback_that_named_the_sid_first_is_not_sent_again(
    make_twilio_harness: MakeHarness,
) -> None:
    """Twilio's callback for the unknown send arrives before the lookup and gives
    the row its sid: the lookup then finds that very sid (the row's own), not a
    message "another row holds"."""
    h = await make_twilio_harness(BASE, send_timeout=0.2)
    h.fake.hang(ALICE, 5.0, created=True)
    incident = await h.fire(*P2)
    await h.settle()
    page = h.fake.expect_sms(ALICE, f"#{incident}")
    assert (await h.status(page.sid, "sent")).status == 204

    await h.fast_forward(seconds=5)

    h.fake.assert_no_more()
    first = (await h.incident(incident))["notifications"][0]
    assert (first["state"], first["provider_id"]) == ("sent", page.sid)
