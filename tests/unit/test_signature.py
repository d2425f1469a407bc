"""verify_twilio_request with real signatures, and FakeTwilio driving signed webhooks.

The second half runs a tiny stand-in of the daemon's /twilio/* routes (built
from signature.py, twiml.py and sms_commands.py) so the fake's outbound side is
exercised the way the scenario tests will use it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import ClientSession, web
from twilio.request_validator import RequestValidator
from yarl import URL

from pager.core.outcome import Outcome
from pager.core.page_text import help_text
from pager.core.sms_commands import Action, parse_reply
from pager.notify.base import Kind, Message
from pager.notify.twilio import TwilioNotifier
from pager.policy.model import Channel
from pager.twilio_hooks import twiml
from pager.twilio_hooks.signature import verify_twilio_request
from tests.fakes.fake_twilio import FakeTwilio, spoken

TOKEN = "12345678901234567890123456789012"
PUBLIC = "https://pager.example.com"  # what Twilio signs; the server itself is elsewhere
PARAMS = {"CallSid": "CA" + "1" * 32, "CallStatus": "completed", "To": "+15550100001"}


async def _echo(request: web.Request) -> web.Response:
    params = await verify_twilio_request(request, TOKEN, PUBLIC + "/")
    if params is None:
        return web.json_response({"error": "bad Twilio signature"}, status=403)
    return web.json_response(params)


@pytest.fixture
async def server() -> AsyncIterator[tuple[ClientSession, str]]:
    app = web.Application()
    app.router.add_post("/twilio/{tail:.*}", _echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    async with ClientSession() as session:
        yield session, f"http://{host}:{port}"
    await runner.cleanup()


def sign(url: str, params: dict[str, str], token: str = TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


async def post(
    server: tuple[ClientSession, str],
    raw_path: str,
    params: dict[str, str],
    headers: dict[str, str],
) -> tuple[int, object]:
    session, base = server
    target = URL(base + raw_path, encoded=True)  # sent byte for byte, no re-quoting
    async with session.post(target, data=params, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_a_signed_request_yields_its_form(server):
    path = "/twilio/status?n=7"

    status, body = await post(server, path, PARAMS, sign(PUBLIC + path, PARAMS))

    assert (status, body) == (200, PARAMS)


async def test_the_raw_percent_encoded_path_is_what_is_signed(server):
    path = "/twilio/voice/caf%C3%A9%2Fx?n=1&note=a%20b"

    assert (await post(server, path, PARAMS, sign(PUBLIC + path, PARAMS)))[0] == 200
    decoded = PUBLIC + "/twilio/voice/café/x?n=1&note=a b"
    assert (await post(server, path, PARAMS, sign(decoded, PARAMS)))[0] == 403


@pytest.mark.parametrize(
    ("signed_url", "params", "token"),
    [
        ("https://evil.example.com/twilio/status?n=7", PARAMS, TOKEN),  # another URL
        (f"{PUBLIC}/twilio/status", PARAMS, TOKEN),  # the query string left out
        (f"{PUBLIC}/twilio/status?n=8", PARAMS, TOKEN),  # another query string
        (f"{PUBLIC}/twilio/status?n=7", PARAMS | {"CallStatus": "busy"}, TOKEN),  # other form
        (f"{PUBLIC}/twilio/status?n=7", PARAMS, "another-token"),
    ],
    ids=["wrong-url", "no-query", "other-query", "tampered-form", "wrong-token"],
)
async def test_a_mismatched_signature_is_refused(server, signed_url, params, token):
    status, _ = await post(server, "/twilio/status?n=7", PARAMS, sign(signed_url, params, token))

    assert status == 403


async def test_an_unsigned_request_is_refused(server):
    assert (await post(server, "/twilio/status", PARAMS, {}))[0] == 403


async def test_the_https_default_port_may_be_signed_explicitly(server):
    path = "/twilio/status"
    headers = sign("https://pager.example.com:443" + path, PARAMS)

    assert (await post(server, path, PARAMS, headers))[0] == 200


# --- JSON bodies, bound to the signed URL by bodySHA256 ---------------------

JSON_BODY = json.dumps({"CallSid": "CA" + "1" * 32, "CallStatus": "completed", "Attempt": 2})


def hashed_path(body: str) -> str:
    return f"/twilio/status?n=7&bodySHA256={hashlib.sha256(body.encode()).hexdigest()}"


async def post_raw(
    server: tuple[ClientSession, str], raw_path: str, body: str, headers: dict[str, str], kind: str
) -> tuple[int, object]:
    session, base = server
    target = URL(base + raw_path, encoded=True)
    sent = headers | {"Content-Type": kind}
    async with session.post(target, data=body.encode(), headers=sent) as resp:
        return resp.status, await resp.json()


async def test_a_json_body_whose_hash_is_signed_yields_its_fields(server):
    path = hashed_path(JSON_BODY)

    status, body = await post_raw(
        server, path, JSON_BODY, sign(PUBLIC + path, {}), "application/json"
    )

    assert (status, body) == (
        200,
        {"CallSid": "CA" + "1" * 32, "CallStatus": "completed", "Attempt": "2"},
    )


async def test_a_body_that_does_not_hash_to_the_signed_bodysha256_is_refused(server):
    """The signature covers the URL only: without the hash check any body would pass."""
    path = hashed_path(JSON_BODY)
    forged = JSON_BODY.replace("completed", "busy")

    status, _ = await post_raw(server, path, forged, sign(PUBLIC + path, {}), "application/json")

    assert status == 403


async def test_a_form_body_with_bodysha256_is_hashed_too(server):
    form = "CallSid=CA1&CallStatus=completed"
    path = hashed_path(form)
    kind = "application/x-www-form-urlencoded"

    good = await post_raw(server, path, form, sign(PUBLIC + path, {}), kind)
    forged = await post_raw(server, path, form + "&x=1", sign(PUBLIC + path, {}), kind)

    assert good == (200, {"CallSid": "CA1", "CallStatus": "completed"})
    assert forged[0] == 403


# --- FakeTwilio against a stand-in of the daemon's Twilio routes -------------

ALICE = "+15550100001"
SCRIPT = "Incident 42: HighErrorRate api. Press 1 to acknowledge, 2 to escalate, 3 to resolve."


@dataclass
class Daemon:
    token: str
    public_url: str = ""  # what Twilio is told and signs
    listen_url: str = ""  # where the server really is (differs behind a proxy)
    statuses: list[dict[str, str]] = field(default_factory=list)
    pressed: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/twilio/sms", self.sms)
        app.router.add_post("/twilio/voice", self.voice)
        app.router.add_post("/twilio/voice/gather", self.gather)
        app.router.add_post("/twilio/status", self.status)
        return app

    async def _form(self, request: web.Request) -> dict[str, str]:
        form = await verify_twilio_request(request, self.token, self.public_url)
        if form is None:
            raise web.HTTPForbidden()
        return form

    async def sms(self, request: web.Request) -> web.Response:
        command = parse_reply((await self._form(request))["Body"])
        if command.action in (Action.STOP, Action.START):
            return _xml(twiml.empty_sms())
        if command.action is Action.HELP:
            return _xml(twiml.sms_reply(help_text()))
        return _xml(twiml.sms_reply(f"{command.action} #{command.incident}"))

    async def voice(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if form.get("AnsweredBy", "human").startswith("machine"):
            return _xml(twiml.voice_machine("Incident 42, see your messages."))
        action = f"{self.public_url}/twilio/voice/gather?n={request.query['n']}"
        return _xml(twiml.voice_page(SCRIPT, action))

    async def gather(self, request: web.Request) -> web.Response:
        self.pressed.append((await self._form(request))["Digits"])
        return _xml(twiml.voice_ack_result("Acknowledged. Goodbye."))

    async def status(self, request: web.Request) -> web.Response:
        self.statuses.append((await self._form(request)) | {"n": request.query.get("n", "")})
        return web.Response(status=204)


def _xml(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/xml")


@pytest.fixture(params=["direct", "behind-proxy"])
async def world(request) -> AsyncIterator[tuple[FakeTwilio, Daemon, TwilioNotifier]]:
    async with FakeTwilio() as fake:
        daemon = Daemon(fake.auth_token)
        runner = web.AppRunner(daemon.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        daemon.listen_url = f"http://{host}:{port}"
        daemon.public_url = PUBLIC if request.param == "behind-proxy" else daemon.listen_url
        notifier = await TwilioNotifier.create(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_number="+15005550006",
            public_url=daemon.public_url,
            api_url=fake.url,
            timeout=2,
        )
        yield fake, daemon, notifier
        await notifier.close()
        await runner.cleanup()


def page(channel: Channel, n: int = 1) -> Message:
    return Message(n, 42, "alice", ALICE, channel, Kind.PAGE, "[P1] #42 HighErrorRate api")


async def test_a_call_is_answered_and_acknowledged_by_a_key(world):
    fake, daemon, notifier = world
    assert (await notifier.send(page(Channel.VOICE, n=5))).outcome is Outcome.ACCEPTED

    call = await fake.expect_voice(
        ALICE, "incident 42", "press 1 to acknowledge", daemon_url=daemon.listen_url
    )
    after = await call.press("1", daemon.listen_url)

    assert daemon.pressed == ["1"]
    assert spoken(after) == "Acknowledged. Goodbye."
    assert call.gather_action is None  # the last TwiML hung up
    fake.assert_no_more()


async def test_a_machine_gets_a_message_and_no_menu(world):
    fake, daemon, notifier = world
    await notifier.send(page(Channel.VOICE))
    call = fake.expect_call(ALICE)

    said = await call.answer("machine_start", daemon.listen_url)

    assert "Hangup" in said
    with pytest.raises(AssertionError, match="no <Gather>"):
        await call.press("1", daemon.listen_url)


async def test_status_callbacks_are_signed_and_reach_the_daemon(world):
    fake, daemon, notifier = world
    sms_sid = (await notifier.send(page(Channel.SMS, n=3))).provider_id
    call_sid = (await notifier.send(page(Channel.VOICE, n=4))).provider_id
    assert sms_sid is not None
    assert call_sid is not None

    assert (await fake.send_status(daemon.listen_url, sms_sid, "undelivered", 30003)).status == 204
    assert (await fake.send_status(daemon.listen_url, call_sid, "ringing")).status == 204
    assert (await fake.send_status(daemon.listen_url, call_sid, "no-answer")).status == 204

    got = [
        (s.get("MessageStatus") or s["CallStatus"], s.get("ErrorCode"), s["n"])
        for s in daemon.statuses
    ]
    assert got == [("undelivered", "30003", "3"), ("ringing", None, "4"), ("no-answer", None, "4")]
    fake.expect_sms(ALICE)
    fake.expect_call(ALICE)
    fake.assert_no_more()


async def test_inbound_sms_replies_are_recorded_as_sent_sms(world):
    fake, daemon, _ = world

    help_reply = await fake.inbound_sms(
        daemon.listen_url, ALICE, "what?", public_url=daemon.public_url
    )
    ack_reply = await fake.inbound_sms(
        daemon.listen_url, ALICE, "42a", public_url=daemon.public_url
    )
    stop_reply = await fake.inbound_sms(
        daemon.listen_url, ALICE, "STOP", public_url=daemon.public_url
    )

    assert help_reply.messages == [help_text()]
    assert ack_reply.messages == ["ack #42"]
    assert (stop_reply.status, stop_reply.messages) == (200, [])
    fake.expect_sms(ALICE, "reply 42A")
    fake.expect_sms(ALICE, "ack #42")
    fake.assert_no_more()


async def test_a_forged_webhook_is_refused(world):
    fake, daemon, _ = world
    fake.auth_token = "not-the-daemons-token"

    reply = await fake.inbound_sms(daemon.listen_url, ALICE, "42A", public_url=daemon.public_url)

    assert (reply.status, reply.messages) == (403, [])


async def test_expectations_fail_clearly(world):
    fake, _, notifier = world
    await notifier.send(page(Channel.SMS))

    with pytest.raises(AssertionError, match=r"no SMS to \+15550100001 containing \['resolved'\]"):
        fake.expect_sms(ALICE, "resolved")
    with pytest.raises(AssertionError, match="unexpected messages/calls"):
        fake.assert_no_more()
    with pytest.raises(AssertionError, match="no call"):
        fake.expect_call(ALICE)


async def test_a_status_twilio_would_not_send_is_refused(world):
    fake, daemon, _ = world
    form = [("To", ALICE), ("From", "+15005550006"), ("Url", daemon.public_url + "/twilio/voice")]
    form += [("StatusCallback", daemon.public_url + "/twilio/status")]
    form += [("StatusCallbackEvent", "completed")]
    secret = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
    auth = {"Authorization": f"Basic {secret}"}
    url = f"{fake.url}/2010-04-01/Accounts/{fake.account_sid}/Calls.json"
    async with ClientSession() as session, session.post(url, data=form, headers=auth) as resp:
        sid = (await resp.json())["sid"]

    with pytest.raises(AssertionError, match="'ringing' is not in StatusCallbackEvent"):
        await fake.send_status(None, sid, "ringing")
    with pytest.raises(ValueError, match="not a call status"):
        await fake.send_status(None, sid, "delivered")
    with pytest.raises(AssertionError, match="no message or call"):
        await fake.send_status(None, "CA" + "9" * 32, "completed")
