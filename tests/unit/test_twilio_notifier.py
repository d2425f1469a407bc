"""TwilioNotifier against FakeTwilio: the request it sends and how answers map to outcomes."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import socket
import struct
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from pager.core.outcome import Outcome
from pager.core.vocabulary import Channel
from pager.notify.base import Kind, LookupFailed, Message, Notifier
from pager.notify.twilio import CODE_OUTCOMES, TwilioNotifier, _failed, classify
from pager.notify.twilio_http import Exchange, HttpClient, retry_after_seconds, track, untrack
from tests.fakes.fake_twilio import FakeTwilio

FROM = "+15005550006"
ALICE = "+15550100001"
PUBLIC = "https://pager.example.com"


def sms(to: str = ALICE, body: str = "[P1] #42 Disk full", n: int = 7, kind: Kind = Kind.PAGE):
    return Message(n, 42, "alice", to, Channel.SMS, kind, body)


def call(to: str = ALICE, n: int = 9):
    return Message(n, 42, "alice", to, Channel.VOICE, Kind.PAGE, "[P1] #42 Disk full")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as twilio:
        yield twilio


async def started(fake: FakeTwilio, **overrides: object) -> TwilioNotifier:
    options: dict[str, object] = {
        "account_sid": fake.account_sid,
        "auth_token": fake.auth_token,
        "from_number": FROM,
        "public_url": PUBLIC + "/",
        "api_url": fake.url,
        "timeout": 2.0,
        "max_concurrency": 4,
    }
    return await TwilioNotifier.create(**(options | overrides))


@pytest.fixture
async def notifier(fake: FakeTwilio) -> AsyncIterator[TwilioNotifier]:
    twilio = await started(fake)
    yield twilio
    await twilio.close()


async def test_sms_is_accepted_with_callback_and_validity(fake, notifier):
    result = await notifier.send(sms(body="[P1] #42 Disk full — café"))

    assert result.outcome is Outcome.ACCEPTED
    sent = fake.expect_sms(ALICE, "disk full", "café")
    assert result.provider_id == sent.sid
    assert len(sent.sid) == 34
    assert sent.sid.startswith("SM")
    assert (sent.from_, sent.to) == (FROM, ALICE)
    assert sent.status_callback == f"{PUBLIC}/twilio/status?n=7"
    assert sent.validity_period == 600
    fake.assert_no_more()


async def test_info_sms_lives_longer_than_a_page(fake, notifier):
    await notifier.send(sms(kind=Kind.INFO, body="#42 resolved"))

    assert fake.expect_sms(ALICE, "resolved").validity_period == 4 * 3600


async def test_call_asks_for_twiml_machine_detection_and_progress_events(fake, notifier):
    result = await notifier.send(call(n=9))

    assert result.outcome is Outcome.ACCEPTED
    placed = fake.expect_call(ALICE)
    assert result.provider_id == placed.sid
    assert placed.sid.startswith("CA")
    assert placed.url == f"{PUBLIC}/twilio/voice?n=9"
    assert placed.machine_detection == "Enable"
    assert placed.status_callback == f"{PUBLIC}/twilio/status?n=9"
    assert placed.status_callback_event == ["initiated", "ringing", "answered", "completed"]
    assert placed.timeout is not None
    assert 15 <= placed.timeout <= 60
    assert placed.body is None
    fake.assert_no_more()


@pytest.mark.parametrize(
    ("script", "outcome", "code"),
    [
        (lambda f: f.fail(ALICE, code=21211), Outcome.PERMANENT, 21211),
        (lambda f: f.fail(ALICE, code=21610), Outcome.PERMANENT, 21610),
        (lambda f: f.fail(ALICE, code=21614), Outcome.PERMANENT, 21614),
        (lambda f: f.fail(ALICE, code=21408), Outcome.PERMANENT, 21408),
        (lambda f: f.fail(ALICE, code=21999), Outcome.PERMANENT, 21999),
        (lambda f: f.too_many(ALICE), Outcome.TEMPORARY, 20429),
        (lambda f: f.fail_times(ALICE, 1, status=500), Outcome.TEMPORARY, 20500),
        (lambda f: f.fail_times(ALICE, 1, status=503), Outcome.TEMPORARY, 20503),
    ],
    ids=["21211", "21610", "21614", "21408", "other-4xx", "20429", "500", "503"],
)
@pytest.mark.parametrize("message", [sms(), call()], ids=["sms", "voice"])
async def test_twilio_errors_map_to_outcomes_without_retry(
    fake, notifier, script, outcome, code, message
):
    script(fake)

    result = await notifier.send(message)

    assert (result.outcome, result.code, result.provider_id) == (outcome, code, None)
    assert result.error
    # fail_times(1) would let a retry through: one attempt proves there was none.
    assert len(fake.attempts(ALICE)) == 1
    fake.assert_no_more()


async def test_wrong_credentials_are_permanent(fake):
    twilio = await started(fake, auth_token="not-the-token")
    try:
        result = await twilio.send(sms())
    finally:
        await twilio.close()

    assert (result.outcome, result.code) == (Outcome.PERMANENT, 20003)
    assert [r.status for r in fake.requests] == [401]


async def test_slow_twilio_is_unknown_within_the_timeout(fake):
    fake.slow(ALICE, 30)
    twilio = await started(fake, timeout=0.2)
    loop = asyncio.get_running_loop()
    began = loop.time()
    try:
        result = await twilio.send(sms())
    finally:
        await twilio.close()

    assert result.outcome is Outcome.UNKNOWN  # the request reached Twilio: maybe sent
    assert loop.time() - began < 2
    assert len(fake.attempts(ALICE)) == 1


async def test_time_waiting_for_a_slot_is_not_charged_to_the_send_timeout(fake):
    """Issue 12, cause 2: the second send waits 0.3 s for the only slot, then
    gets its own 0.3 s (it was 'no answer within 0.3s' before, never sent)."""
    bob = "+15550100002"
    fake.slow(ALICE, 30)
    fake.slow(bob, 0.2)
    twilio = await started(fake, timeout=0.3, max_concurrency=1)
    try:
        first, second = await asyncio.gather(twilio.send(sms()), twilio.send(sms(to=bob)))
    finally:
        await twilio.close()

    assert first.outcome is Outcome.UNKNOWN
    assert second.outcome is Outcome.ACCEPTED
    fake.expect_sms(ALICE)  # Twilio took the slow one: it was unknown, not lost
    fake.expect_sms(bob)
    fake.assert_no_more()


async def test_unreachable_api_is_temporary(fake):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    twilio = await started(fake, api_url=f"http://127.0.0.1:{port}")
    try:
        result = await twilio.send(sms())
    finally:
        await twilio.close()

    assert result.outcome is Outcome.TEMPORARY
    assert result.error


async def test_concurrency_is_bounded(fake):
    fake.slow(ALICE, 0.15)
    twilio = await started(fake, max_concurrency=2, timeout=5)
    try:
        results = await asyncio.gather(*(twilio.send(sms(n=i)) for i in range(6)))
    finally:
        await twilio.close()

    assert {r.outcome for r in results} == {Outcome.ACCEPTED}
    assert fake.max_in_flight == 2


@pytest.mark.parametrize(
    "env",
    [
        {"TWILIO_EDGE": "sydney"},
        {"TWILIO_REGION": "au1"},
        {"TWILIO_EDGE": "x", "TWILIO_REGION": "ie1"},
    ],
)
async def test_region_and_edge_variables_do_not_move_the_api(fake, monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    twilio = await started(fake)
    try:
        result = await twilio.send(sms())
    finally:
        await twilio.close()

    assert result.outcome is Outcome.ACCEPTED
    fake.expect_sms(ALICE)


async def test_send_before_start_is_a_programming_error():
    twilio: Notifier = TwilioNotifier(  # mypy checks it fits the Notifier protocol
        account_sid="AC" + "0" * 32, auth_token="t", from_number=FROM, public_url=PUBLIC
    )
    with pytest.raises(RuntimeError, match="start"):
        await twilio.send(sms())


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (400, 21211, Outcome.PERMANENT),
        (400, 20429, Outcome.TEMPORARY),  # the code wins over the status
        (429, None, Outcome.TEMPORARY),
        (408, None, Outcome.TEMPORARY),
        (500, 500, Outcome.TEMPORARY),  # unparsable body: the client echoes the status
        (502, None, Outcome.TEMPORARY),
        (404, None, Outcome.PERMANENT),
        (401, 20003, Outcome.PERMANENT),
    ],
)
def test_classify(status, code, outcome):
    assert classify(status, code) is outcome


def test_every_listed_code_is_a_twilio_code():
    assert all(10000 <= code < 100000 for code in CODE_OUTCOMES)


# --- finding out whether a send of unknown fate went out (issue 12, cause 3) ----


async def test_find_sent_lists_messages_to_the_number_from_ours_since_then(fake, notifier):
    since = fake.clock.now()
    first = await notifier.send(sms(body="[P1] #42 Disk full"))
    await notifier.send(sms(body="[P1] #43 Other"))  # same number, another text
    await notifier.send(sms(to="+15550100002", body="[P1] #42 Disk full"))  # another number

    found = await notifier.find_sent(sms(body="[P1] #42 Disk full"), since)

    assert found == [first.provider_id]
    [query] = fake.list_requests
    assert (query["kind"], query["To"], query["From"]) == ("sms", ALICE, FROM)
    assert query["DateSent>"].endswith("Z")  # ISO 8601, UTC, a minute before `since`
    assert query["PageSize"] == "1000"  # the most Twilio serves in one page


async def test_find_sent_finds_an_older_message_behind_many_newer_ones(fake, notifier):
    """Found by the chaos suite: with a one-page list of 50, a message behind 50
    newer ones to the same person was "not found" and sent again."""
    since = fake.clock.now()
    first = await notifier.send(sms(body="[P1] #1 the first"))
    for i in range(60):
        await notifier.send(sms(body=f"[P1] #{i + 2} a later one"))

    assert await notifier.find_sent(sms(body="[P1] #1 the first"), since) == [first.provider_id]


async def test_find_sent_lists_calls_by_start_time(fake, notifier):
    since = fake.clock.now()
    placed = await notifier.send(call())

    assert await notifier.find_sent(call(), since) == [placed.provider_id]
    [query] = fake.list_requests
    assert (query["kind"], query["To"], query["From"]) == ("voice", ALICE, FROM)
    assert "StartTime>" in query


async def test_find_sent_finds_nothing_twilio_never_took(fake, notifier):
    fake.hang(ALICE, 5, created=False)
    twilio = await started(fake, timeout=0.2)
    try:
        assert (await twilio.send(sms())).outcome is Outcome.UNKNOWN
        assert await twilio.find_sent(sms(), fake.clock.now()) == []
    finally:
        await twilio.close()


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_find_sent_that_twilio_refuses_is_lookup_failed(fake, notifier, status):
    fake.lists_fail(status=status)
    with pytest.raises(LookupFailed):
        await notifier.find_sent(sms(), fake.clock.now())
    assert len(fake.list_requests) == 1  # never retried


async def test_find_sent_is_bounded_in_time(fake):
    fake.lists_fail(delay=30, status=201)  # answers, but far too late
    twilio = await started(fake, timeout=0.2)
    loop = asyncio.get_running_loop()
    began = loop.time()
    try:
        with pytest.raises(LookupFailed, match="timed out"):
            await twilio.find_sent(sms(), fake.clock.now())
    finally:
        await twilio.close()
    assert loop.time() - began < 2


# --- how far a failed request got ------------------------------------------------


async def test_a_connection_cut_after_twilio_read_the_request_is_unknown(fake, notifier):
    fake.reset(ALICE, created=False)
    result = await notifier.send(sms())
    assert result.outcome is Outcome.UNKNOWN  # the body was written: Twilio may have it
    assert "Disconnected" in (result.error or "")


async def test_a_reset_while_the_body_is_written_leaves_it_unwritten():
    """The peer resets the connection after a few bytes, while a body far larger
    than the socket buffers is still being written: the exchange knows the body
    never got out in full (and then a failure is TEMPORARY, below)."""

    async def reset_early(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()

    server = await asyncio.start_server(reset_early, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = HttpClient(logging.getLogger("test"))
    exchange, token = track()
    try:
        with pytest.raises(aiohttp.ClientError):
            await client.request(
                "POST", f"http://127.0.0.1:{port}/x", data={"Body": "x" * 16_000_000}
            )
        assert exchange.body_written is False
    finally:
        untrack(token)
        await client.close()
        server.close()
        await server.wait_closed()


async def test_a_request_twilio_answered_had_its_body_written(fake):
    client = HttpClient(logging.getLogger("test"))
    exchange, token = track()
    try:
        await client.request("POST", fake.url + "/2010-04-01/Accounts/x/Messages.json", data={})
        assert exchange.body_written is True
    finally:
        untrack(token)
        await client.close()


def test_a_failure_before_the_body_was_written_is_temporary_after_it_unknown():
    assert _failed(sms(), Exchange(), ConnectionResetError()).outcome is Outcome.TEMPORARY

    class Written(Exchange):
        @property
        def body_written(self) -> bool:
            return True

    assert _failed(sms(), Written(), ConnectionResetError()).outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("30", 30.0), ("1.5", 1.5), (None, None), ("soon", None), ("-4", 0.0)],
)
def test_retry_after_seconds(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_an_http_date():
    later = email.utils.formatdate(time.time() + 120, usegmt=True)
    value = retry_after_seconds(later)
    assert value is not None
    assert 100 < value <= 120


async def test_a_429_carries_its_retry_after(fake, notifier):
    fake.too_many(ALICE, retry_after=42)
    result = await notifier.send(sms())
    assert (result.outcome, result.retry_after) == (Outcome.TEMPORARY, 42.0)
