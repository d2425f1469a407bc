"""FakeTwilio: a stand-in for Twilio, for tests (127.0.0.1, a free port), served
by a real HTTP server, so the daemon can be its own process and point
PAGER_TWILIO_API_URL at it.

Inbound (what the daemon calls): `POST /2010-04-01/Accounts/{sid}/Messages.json`
and `/Calls.json`, form-encoded with HTTP Basic auth, answered like Twilio
(201 + resource JSON, or Twilio's error body); `GET` of the same paths lists
what was created (see twilio_rest.py for the filters). Every request is
recorded, the failed ones too (`requests`, `list_requests`).

Faults, per number (or `ANY` number): `fail`, `fail_times`, `too_many` (429
with Retry-After), `slow`, `hang` (no answer in time; created or not),
`reset` (the connection cut; created or not), `hold` (created at once, answered
when the test says: a send in flight for exactly as long as it needs),
`latency` for every request,
`flaky` (a share of requests meets a random one of these), and `lists_fail`
for the list endpoints.

Outbound (driving the daemon like Twilio would) is in twilio_driver.py.
Scenario expectations in the style of GoAlert's smoke tests: `expect_sms`,
`expect_voice` consume what Twilio accepted; `assert_no_more` fails on
anything left over, so a double page fails the test. The scenario fixtures run
it again at teardown (`check_at_teardown`); `allow_more(reason)` says why a
test leaves messages.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import random
from collections.abc import Awaitable, Callable
from typing import Literal

from aiohttp import ClientSession, web

from pager.clock import Clock, SystemClock
from tests.fakes.fake_notifier import require_reason
from tests.fakes.twilio_driver import TwilioDriver
from tests.fakes.twilio_rest import (
    API,
    CODE_FOR_STATUS,
    DEFAULT_SID,
    DEFAULT_TOKEN,
    Fault,
    Recorded,
    Reply,
    error,
    form_value,
    listed,
    page,
    resource,
    spoken,
)

__all__ = ["ANY", "DEFAULT_SID", "DEFAULT_TOKEN", "FakeTwilio", "Recorded", "Reply", "spoken"]
ANY = "*"  # a fault for every number
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
KINDS: tuple[tuple[str, Literal["sms", "voice"]], ...] = (("Messages", "sms"), ("Calls", "voice"))


class FakeTwilio(TwilioDriver):
    """The fake; `await start()` / `await close()`, or `async with FakeTwilio() as fake`."""

    def __init__(
        self,
        account_sid: str = DEFAULT_SID,
        auth_token: str = DEFAULT_TOKEN,
        clock: Clock | None = None,
        port: int = 0,
    ) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.clock: Clock = clock or SystemClock()
        self.requests: list[Recorded] = []
        self.list_requests: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.latency = 0.0  # seconds every answer takes (the message exists at once)
        self._faults: dict[str, list[Fault]] = {}
        self._list_faults: list[Fault] = []
        self._flaky, self._flaky_hang, self._rng = 0.0, 0.0, random.Random(7)
        self._ids = itertools.count(1)
        self._release = asyncio.Event()
        self._gates: list[asyncio.Event] = []  # of `hold`; close() opens them
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._port = port
        self.url = ""
        self.allowed_more: str | None = None  # why the test may leave messages

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> FakeTwilio:
        app = web.Application()
        for plural, kind in KINDS:
            path = API + "/Accounts/{sid}/" + plural + ".json"
            app.router.add_post(path, self._creator(kind))
            app.router.add_get(path, self._lister(kind))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._port).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._session = ClientSession()
        return self

    async def close(self) -> None:
        self._release.set()  # let waiting handlers finish instead of holding shutdown
        for gate in self._gates:
            gate.set()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTwilio:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- scripted faults -------------------------------------------------------

    def script(self, number: str, fault: Fault) -> None:
        """The next request(s) to `number` (ANY: to any number) meet `fault`."""
        self._faults.setdefault(number, []).append(fault)

    def fail(self, number: str, code: int = 21211, status: int = 400) -> None:
        """Every request to `number` fails with Twilio error `code`."""
        self.script(number, Fault(status, code, creates=False))

    def fail_times(
        self,
        number: str,
        n: int,
        status: int = 500,
        code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """The next `n` requests to `number` fail, then they succeed again."""
        after = None if retry_after is None else f"{retry_after:g}"
        code = code or CODE_FOR_STATUS.get(status)
        self.script(number, Fault(status, code, n, creates=False, retry_after=after))

    def too_many(self, number: str, n: int = 1, retry_after: float | None = None) -> None:
        """The next `n` requests to `number` get 429 / 20429 (too many concurrent requests)."""
        self.fail_times(number, n, status=429, code=20429, retry_after=retry_after)

    def slow(self, number: str, seconds: float, times: int | None = None) -> None:
        """Requests to `number` are taken at once but answered (201) after `seconds`
        (the next `times` of them; every one when None)."""
        self.script(number, Fault(times=times, delay=seconds))

    def hold(self, number: str, times: int | None = 1) -> asyncio.Event:
        """Requests to `number` are taken at once (the message exists) but answered
        (201) only when the returned event is set: no race with the wall clock."""
        gate = asyncio.Event()
        self._gates.append(gate)
        self.script(number, Fault(times=times, gate=gate))
        return gate

    def hang(self, number: str, seconds: float, created: bool, times: int | None = 1) -> None:
        """No answer for `seconds`. `created`: Twilio took the message and then answers
        201 late; else it never did, and the connection is cut at the end."""
        self.script(number, Fault(times=times, delay=seconds, creates=created, cut=not created))

    def reset(self, number: str, created: bool, times: int | None = 1) -> None:
        """The connection is cut instead of answered; `created`: after Twilio took it."""
        self.script(number, Fault(times=times, creates=created, cut=True))

    def lists_fail(self, times: int | None = None, status: int = 500, delay: float = 0.0) -> None:
        """List requests fail (or, with `delay`, answer late)."""
        code = CODE_FOR_STATUS.get(status)
        self._list_faults.append(Fault(status, code, times, delay=delay, creates=False))

    def flaky(self, rate: float, hang: float, seed: int = 7) -> None:
        """From now on a `rate` share of requests, to any number, meets one fault
        drawn at random: a reset or a hang of `hang` seconds (Twilio took the
        message or not), a 503, or a 429 asking to wait a second."""
        self._flaky, self._flaky_hang, self._rng = rate, hang, random.Random(seed)

    def heal(self) -> None:
        """Forget every scripted fault."""
        self._faults.clear()
        self._list_faults.clear()
        self._flaky = 0.0

    def _fault_for(self, number: str) -> Fault | None:
        for key in (number, ANY):
            faults = self._faults.get(key, [])
            if faults:
                return _take(faults)
        if self._flaky and self._rng.random() < self._flaky:
            return self._random_fault()
        return None

    def _random_fault(self) -> Fault:
        created = self._rng.random() < 0.5
        return self._rng.choice(
            [
                Fault(creates=created, cut=True),
                Fault(delay=self._flaky_hang, creates=created, cut=not created),
                Fault(503, 20503, creates=False),
                Fault(429, 20429, creates=False, retry_after="1"),
            ]
        )

    # --- the REST API ----------------------------------------------------------

    def _creator(self, kind: Literal["sms", "voice"]) -> Handler:
        async def create(request: web.Request) -> web.StreamResponse:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                return await self._answer(request, kind)
            finally:
                self.in_flight -= 1

        return create

    async def _answer(
        self, request: web.Request, kind: Literal["sms", "voice"]
    ) -> web.StreamResponse:
        form = await request.post()
        fields = {k: [str(v) for v in form.getall(k)] for k in dict.fromkeys(form)}
        record = self._record(kind, fields)
        status, code = self._verdict(record) if self._authorized(request) else (401, 20003)
        fault = self._fault_for(record.to) if status == 201 else None
        fault = fault or Fault(status, code, creates=status == 201)
        if status == 201 and fault.creates:
            record.sid = self._new_sid("SM" if kind == "sms" else "CA")
            record.created_at = self.clock.now()
        await self._delay(self.latency + fault.delay)
        if fault.gate is not None:
            await fault.gate.wait()
        if fault.cut:
            _cut(request)
            raise web.HTTPServiceUnavailable()  # never reaches the client
        record.status = fault.status
        if fault.status != 201:
            return error(fault.status, fault.code, fault.retry_after)
        return web.json_response(resource(record, self.account_sid, API), status=201)

    def _lister(self, kind: Literal["sms", "voice"]) -> Handler:
        async def list_(request: web.Request) -> web.StreamResponse:
            query = dict(request.query)
            self.list_requests.append({"kind": kind, **query})
            if not self._authorized(request):
                return error(401, 20003)
            fault = _take(self._list_faults) if self._list_faults else None
            await self._delay(self.latency + (fault.delay if fault else 0.0))
            if fault is not None and fault.status != 201:
                return error(fault.status, fault.code)
            size = form_value(query.get("PageSize")) or 50
            found = listed(self.requests, kind, query)
            ids = {"account_sid": self.account_sid, "api": API}
            return web.json_response(page(found, kind, request.path, size, **ids))

        return list_

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
            validity_period=form_value(one.get("ValidityPeriod")),
            machine_detection=one.get("MachineDetection"),
            status_callback_event=form.get("StatusCallbackEvent", []),
            timeout=form_value(one.get("Timeout")),
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

    # --- expectations ----------------------------------------------------------

    @property
    def sent(self) -> list[Recorded]:
        """Messages and calls Twilio took, in order (whatever the client heard back)."""
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

    def allow_more(self, reason: str) -> None:
        """This test ends with messages or calls it did not expect, on purpose: say why."""
        self.allowed_more = require_reason(reason)

    def check_at_teardown(self) -> None:
        """What the scenario fixtures run when the test ends: `assert_no_more`, unless allowed."""
        if self.allowed_more is None:
            self.assert_no_more()

    def _pending(self, kind: str, to: str) -> list[Recorded]:
        return [r for r in self.sent if r.kind == kind and r.to == to and not r.consumed]

    def _missing(self, what: str, to: str, words: tuple[str, ...]) -> str:
        listing = "\n  ".join(
            f"{r.describe()}{' (consumed)' if r.consumed else ''}" for r in self.requests
        )
        return f"no {what} to {to} containing {list(words)}; received:\n  {listing or '(none)'}"


def _take(faults: list[Fault]) -> Fault:
    fault = faults[0]
    if fault.times is not None:
        fault.times -= 1
        if fault.times <= 0:
            faults.pop(0)
    return fault


def _cut(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()


def _has_words(text: str, words: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return all(word.lower() in lowered for word in words)
