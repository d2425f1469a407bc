"""FakeTwilio: an in-process stand-in for Twilio, for tests (127.0.0.1, random port).

Inbound (what the daemon calls): `POST /2010-04-01/Accounts/{sid}/Messages.json`
and `/Calls.json`, form-encoded with HTTP Basic auth, answered like Twilio
(201 + resource JSON, or Twilio's error body). Every request is recorded, the
failed ones too (`requests`); failures are scripted per number with `fail`,
`fail_times`, `too_many` and `slow`.

Outbound (driving the daemon like Twilio would): signed status callbacks,
inbound SMS, answering a call and pressing keys, each signed with the auth
token by `RequestValidator.compute_signature` over the URL as recorded.

Scenario expectations in the style of GoAlert's smoke tests: `expect_sms`,
`expect_voice` consume accepted messages and calls; `assert_no_more` fails on
anything left over, so a double page fails the test.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from aiohttp import ClientSession, web
from twilio.request_validator import RequestValidator
from yarl import URL

from pager.clock import Clock, SystemClock

API = "/2010-04-01"
DEFAULT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_TOKEN = "fake-auth-token-0123456789abcdef"

ERROR_MESSAGES = {  # the messages Twilio answers these codes with
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service is unavailable. Please try again",
    21205: "Url parameter is required.",
    21211: "Invalid 'To' Phone Number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To'"
    " number",
    21602: "Message body is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}
_CODE_FOR_STATUS = {429: 20429, 500: 20500, 503: 20503}

SMS_STATUSES = ("queued", "sending", "sent", "delivered", "undelivered", "failed", "read")
CALL_EVENTS = {  # CallStatus -> the StatusCallbackEvent that must be asked for
    "initiated": "initiated",
    "ringing": "ringing",
    "in-progress": "answered",
    "completed": None,  # final statuses are always sent
    "busy": None,
    "no-answer": None,
    "canceled": None,
    "failed": None,
}


@dataclass
class Reply:
    """What the daemon answered a webhook with."""

    status: int
    text: str
    messages: list[str] = field(default_factory=list)  # <Message> texts of a TwiML reply


@dataclass
class Recorded:
    """One request the daemon made to the fake (or one TwiML <Message> reply)."""

    kind: Literal["sms", "voice"]
    sid: str  # "" when the request was refused
    to: str
    from_: str
    status: int  # the HTTP status the fake answered
    form: dict[str, list[str]]
    body: str | None = None
    url: str | None = None
    status_callback: str | None = None
    validity_period: int | None = None
    machine_detection: str | None = None
    status_callback_event: list[str] = field(default_factory=list)
    timeout: int | None = None
    via: Literal["api", "twiml"] = "api"
    callbacks: int = 0  # status callbacks sent so far
    consumed: bool = False
    twiml: str | None = None  # the call's latest TwiML (after answer/press)
    gather_action: str | None = None
    fake: FakeTwilio | None = field(default=None, repr=False, compare=False)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    def describe(self) -> str:
        what = self.body if self.kind == "sms" else f"call url={self.url}"
        return f"{self.kind} to {self.to} [{self.status}] {what!r}"

    async def answer(self, answered_by: str = "human", daemon_url: str | None = None) -> str:
        return await self._fake().answer_call(self.sid, answered_by, daemon_url)

    async def press(self, digits: str, daemon_url: str | None = None) -> str:
        return await self._fake().press(self.sid, digits, daemon_url)

    def spoken(self) -> str:
        return spoken(self.twiml or "")

    def _fake(self) -> FakeTwilio:
        assert self.fake is not None, "not recorded by a FakeTwilio"
        return self.fake


@dataclass
class _Rule:
    status: int
    code: int | None
    times: int | None  # None: every time
    delay: float = 0.0


def spoken(twiml: str) -> str:
    """All <Say> text of a TwiML document, in order."""
    root = ET.fromstring(twiml)
    return " ".join((say.text or "").strip() for say in root.iter("Say"))


def twiml_messages(twiml: str) -> list[str]:
    """The texts of the <Message> verbs of a messaging TwiML document."""
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        return []
    return ["".join(m.itertext()).strip() for m in root.iter("Message")]


def _retarget(url: str, daemon_url: str | None) -> str:
    """`url` sent to `daemon_url` instead of its own origin (path and query kept raw)."""
    if not daemon_url:
        return url
    parts = urlsplit(url)
    return daemon_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


class FakeTwilio:
    """The fake; `await start()` / `await close()`, or `async with FakeTwilio() as fake`."""

    def __init__(
        self,
        account_sid: str = DEFAULT_SID,
        auth_token: str = DEFAULT_TOKEN,
        clock: Clock | None = None,
    ) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.clock: Clock = clock or SystemClock()
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._rules: dict[str, list[_Rule]] = {}
        self._ids = itertools.count(1)
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self.url = ""

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post(API + "/Accounts/{sid}/Messages.json", self._messages)
        app.router.add_post(API + "/Accounts/{sid}/Calls.json", self._calls)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._session = ClientSession()
        return self

    async def close(self) -> None:
        self._release.set()  # let `slow` handlers finish instead of holding shutdown
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTwilio:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- scripted failures -----------------------------------------------------

    def fail(self, number: str, code: int = 21211, status: int = 400) -> None:
        """Every request to `number` fails with Twilio error `code`."""
        self._rules.setdefault(number, []).append(_Rule(status, code, None))

    def fail_times(self, number: str, n: int, status: int = 500, code: int | None = None) -> None:
        """The next `n` requests to `number` fail, then they succeed again."""
        self._rules.setdefault(number, []).append(
            _Rule(status, code or _CODE_FOR_STATUS.get(status), n)
        )

    def too_many(self, number: str, n: int = 1) -> None:
        """The next `n` requests to `number` get 429 / 20429 (too many concurrent requests)."""
        self.fail_times(number, n, status=429, code=20429)

    def slow(self, number: str, seconds: float, times: int | None = None) -> None:
        """Requests to `number` are answered (successfully) after `seconds`
        (the next `times` of them; every one when None)."""
        self._rules.setdefault(number, []).append(_Rule(201, None, times, delay=seconds))

    def _rule_for(self, number: str) -> _Rule | None:
        rules = self._rules.get(number, [])
        if not rules:
            return None
        rule = rules[0]
        if rule.times is not None:
            rule.times -= 1
            if rule.times <= 0:
                rules.pop(0)
        return rule

    # --- the REST API ----------------------------------------------------------

    async def _messages(self, request: web.Request) -> web.Response:
        return await self._create(request, "sms")

    async def _calls(self, request: web.Request) -> web.Response:
        return await self._create(request, "voice")

    async def _create(self, request: web.Request, kind: Literal["sms", "voice"]) -> web.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request, kind)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request, kind: Literal["sms", "voice"]) -> web.Response:
        form = await request.post()
        fields = {k: [str(v) for v in form.getall(k)] for k in dict.fromkeys(form)}
        record = self._record(kind, fields)
        status, code = self._verdict(record) if self._authorized(request) else (401, 20003)
        rule = self._rule_for(record.to) if status == 201 else None
        if rule is not None:
            await self._delay(rule.delay)
            status, code = rule.status, rule.code
        record.status = status
        if status != 201:
            return _error(status, code)
        record.sid = self._new_sid("SM" if kind == "sms" else "CA")
        return web.json_response(self._resource(record), status=201)

    def _authorized(self, request: web.Request) -> bool:
        if request.match_info["sid"] != self.account_sid:
            return False
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return scheme.lower() == "basic" and (user, password) == (
            self.account_sid,
            self.auth_token,
        )

    def _record(self, kind: Literal["sms", "voice"], form: dict[str, list[str]]) -> Recorded:
        one = {k: v[-1] for k, v in form.items()}
        record = Recorded(
            kind=kind,
            sid="",
            to=one.get("To", ""),
            from_=one.get("From", ""),
            status=0,
            form=form,
            body=one.get("Body"),
            url=one.get("Url"),
            status_callback=one.get("StatusCallback"),
            validity_period=_int(one.get("ValidityPeriod")),
            machine_detection=one.get("MachineDetection"),
            status_callback_event=form.get("StatusCallbackEvent", []),
            timeout=_int(one.get("Timeout")),
            fake=self,
        )
        self.requests.append(record)
        return record

    @staticmethod
    def _verdict(record: Recorded) -> tuple[int, int | None]:
        """Twilio's own validation of the required fields."""
        if not record.to:
            return 400, 21604
        if record.kind == "sms" and not record.body:
            return 400, 21602
        if record.kind == "voice" and not (record.url or "Twiml" in record.form):
            return 400, 21205
        return 201, None

    async def _delay(self, seconds: float) -> None:
        if seconds > 0:
            # The client is expected to give up first; close() releases the wait.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), seconds)

    def _new_sid(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):032x}"

    def _resource(self, record: Recorded) -> dict[str, Any]:
        now = format_datetime(self.clock.now())
        plural = "Messages" if record.kind == "sms" else "Calls"
        common = {
            "sid": record.sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "to": record.to,
            "from": record.from_,
            "status": "queued",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "price": None,
            "price_unit": "USD",
            "uri": f"{API}/Accounts/{self.account_sid}/{plural}/{record.sid}.json",
        }
        if record.kind == "sms":
            return common | {
                "body": record.body,
                "num_segments": "1",
                "num_media": "0",
                "date_sent": None,
                "error_code": None,
                "error_message": None,
                "messaging_service_sid": None,
            }
        return common | {
            "answered_by": None,
            "duration": None,
            "start_time": None,
            "end_time": None,
            "parent_call_sid": None,
            "queue_time": "0",
        }

    # --- driving the daemon like Twilio ---------------------------------------

    def find(self, sid: str) -> Recorded:
        for record in self.requests:
            if record.sid == sid and sid:
                return record
        raise AssertionError(f"FakeTwilio has no message or call {sid!r}")

    async def send_status(
        self,
        daemon_url: str | None,
        sid: str,
        status: str,
        error_code: int | None = None,
    ) -> Reply:
        """Posts the status callback Twilio sends for `sid` (to its recorded StatusCallback).

        `daemon_url`, when given, replaces the callback's origin (where the
        daemon really listens); the signature is over the recorded URL.
        """
        record = self.find(sid)
        if not record.status_callback:
            raise AssertionError(f"{record.describe()} was sent without a StatusCallback")
        params = self._status_params(record, status)
        record.callbacks += 1
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return await self._post_signed(record.status_callback, params, daemon_url)

    def _status_params(self, record: Recorded, status: str) -> dict[str, str]:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": record.from_,
            "To": record.to,
        }
        if record.kind == "sms":
            if status not in SMS_STATUSES:
                raise ValueError(f"not a message status: {status!r}")
            return params | {
                "MessageSid": record.sid,
                "SmsSid": record.sid,
                "MessageStatus": status,
                "SmsStatus": status,
            }
        self._check_call_event(record, status)
        return params | {
            "CallSid": record.sid,
            "CallStatus": status,
            "Direction": "outbound-api",
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(record.callbacks),
        }

    @staticmethod
    def _check_call_event(record: Recorded, status: str) -> None:
        if status not in CALL_EVENTS:
            raise ValueError(f"not a call status: {status!r}")
        event = CALL_EVENTS[status]
        if event is not None and event not in record.status_callback_event:
            raise AssertionError(
                f"Twilio would not send {status!r}: {event!r} is not in "
                f"StatusCallbackEvent {record.status_callback_event}"
            )

    async def inbound_sms(
        self,
        daemon_url: str,
        from_: str,
        body: str,
        to: str | None = None,
        public_url: str | None = None,
    ) -> Reply:
        """A person texts the daemon's number; TwiML <Message> replies are recorded as SMS."""
        sid = self._new_sid("SM")
        to = to or next((r.from_ for r in reversed(self.requests) if r.from_), "+15005550006")
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
        }
        url = (public_url or daemon_url).rstrip("/") + "/twilio/sms"
        reply = await self._post_signed(url, params, daemon_url)
        reply.messages = twiml_messages(reply.text) if reply.status == 200 else []
        for text in reply.messages:
            self._record_reply(to, from_, text)
        return reply

    def _record_reply(self, from_: str, to: str, text: str) -> None:
        sid = self._new_sid("SM")
        self.requests.append(
            Recorded("sms", sid, to, from_, 201, {}, body=text, via="twiml", fake=self)
        )

    async def answer_call(
        self, sid: str, answered_by: str = "human", daemon_url: str | None = None
    ) -> str:
        """Answers call `sid`: fetches its TwiML (signed POST to its Url) and returns it."""
        record = self.find(sid)
        if not record.url:
            raise AssertionError(f"{record.describe()} has no Url to fetch TwiML from")
        params = self._call_params(record)
        if record.machine_detection:
            params["AnsweredBy"] = answered_by
        return await self._fetch_twiml(record, record.url, params, daemon_url)

    async def press(self, sid: str, digits: str, daemon_url: str | None = None) -> str:
        """Presses `digits` on call `sid`: posts them to the last TwiML's <Gather action>."""
        record = self.find(sid)
        if not record.gather_action:
            raise AssertionError(f"{record.describe()}: no <Gather> to press keys into")
        params = self._call_params(record) | {"Digits": digits, "FinishedOnKey": ""}
        return await self._fetch_twiml(record, record.gather_action, params, daemon_url)

    def _call_params(self, record: Recorded) -> dict[str, str]:
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": record.sid,
            "CallStatus": "in-progress",
            "Direction": "outbound-api",
            "From": record.from_,
            "To": record.to,
            "Called": record.to,
            "Caller": record.from_,
        }

    async def _fetch_twiml(
        self, record: Recorded, url: str, params: dict[str, str], daemon_url: str | None
    ) -> str:
        reply = await self._post_signed(url, params, daemon_url)
        if reply.status != 200:
            raise AssertionError(f"TwiML fetch {url} answered {reply.status}: {reply.text}")
        record.twiml = reply.text
        gather = ET.fromstring(reply.text).find(".//Gather")
        action = gather.get("action") if gather is not None else None
        # Twilio resolves a relative action against the document's URL.
        record.gather_action = urljoin(url, action) if action else None
        return reply.text

    async def _post_signed(
        self, url: str, params: Mapping[str, str], daemon_url: str | None
    ) -> Reply:
        assert self._session is not None, "FakeTwilio.start() first"
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        target = URL(_retarget(url, daemon_url), encoded=True)
        headers = {"X-Twilio-Signature": signature}
        async with self._session.post(target, data=dict(params), headers=headers) as resp:
            return Reply(resp.status, await resp.text())

    # --- expectations ----------------------------------------------------------

    @property
    def sent(self) -> list[Recorded]:
        """Accepted messages and calls, in order."""
        return [r for r in self.requests if r.accepted]

    def attempts(self, to: str) -> list[Recorded]:
        """Every request for `to`, refused ones included."""
        return [r for r in self.requests if r.to == to]

    def expect_sms(self, to: str, *words: str) -> Recorded:
        """Consumes the first unconsumed SMS to `to` that contains all `words` (any case)."""
        for record in self._pending("sms", to):
            if _has_words(record.body or "", words):
                record.consumed = True
                return record
        raise AssertionError(self._missing("SMS", to, words))

    def expect_call(self, to: str) -> Recorded:
        """Consumes the first unconsumed call to `to`, without answering it."""
        for record in self._pending("voice", to):
            record.consumed = True
            return record
        raise AssertionError(self._missing("call", to, ()))

    async def expect_voice(
        self, to: str, *words: str, answered_by: str = "human", daemon_url: str | None = None
    ) -> Recorded:
        """Consumes the first call to `to`; with `words`, answers it and checks what it says."""
        record = self.expect_call(to)
        if words:
            said = spoken(await record.answer(answered_by, daemon_url))
            if not _has_words(said, words):
                raise AssertionError(f"call to {to} said {said!r}, missing one of {words}")
        return record

    def assert_no_more(self) -> None:
        """Fails when a message or call was sent that no expectation consumed."""
        left = [r for r in self.sent if not r.consumed]
        if left:
            listing = "\n  ".join(r.describe() for r in left)
            raise AssertionError(f"unexpected messages/calls:\n  {listing}")

    def _pending(self, kind: str, to: str) -> list[Recorded]:
        return [r for r in self.sent if r.kind == kind and r.to == to and not r.consumed]

    def _missing(self, what: str, to: str, words: tuple[str, ...]) -> str:
        listing = "\n  ".join(
            f"{r.describe()}{' (consumed)' if r.consumed else ''}" for r in self.requests
        )
        return f"no {what} to {to} containing {list(words)}; received:\n  {listing or '(none)'}"


def _has_words(text: str, words: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return all(word.lower() in lowered for word in words)


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def _error(status: int, code: int | None) -> web.Response:
    code = code or status
    body = {
        "code": code,
        "message": ERROR_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status)
