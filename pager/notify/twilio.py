"""TwilioNotifier: sends a page as an SMS or a voice call through Twilio's REST API.

What it guarantees:
- One HTTP request per `send`, never a retry: a repeated POST could page twice,
  so retries belong to the notification's state machine (Outcome says what to do).
- Every `send` returns within `timeout` seconds, waiting for a slot included
  (Twilio's async client ignores its own timeout).
- At most `max_concurrency` requests in flight (Twilio answers 20429 beyond its limit).
- Requests go to `api_url` when given (tests point it at a stand-in), and
  TWILIO_REGION / TWILIO_EDGE in the environment cannot redirect them.
- TEMPORARY only when the request surely did not reach Twilio or Twilio said
  "later"; UNKNOWN when it may have been sent (the outbox must not blindly repeat).

The aiohttp session lives inside the running loop: `await start()` (or
`TwilioNotifier.create(...)`) before sending, `await close()` on shutdown.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import logging
import types
from dataclasses import dataclass
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from pager.notify.base import Kind, Message, Outcome, SendResult

log = logging.getLogger(__name__)

# Twilio error codes whose meaning decides the outcome regardless of the HTTP
# status. https://www.twilio.com/docs/api/errors
CODE_OUTCOMES: dict[int, Outcome] = {
    20003: Outcome.PERMANENT,  # authentication failed: wrong SID or token; config, not luck
    20404: Outcome.PERMANENT,  # resource (account) not found
    20429: Outcome.TEMPORARY,  # too many concurrent requests: try again shortly
    20500: Outcome.TEMPORARY,  # Twilio internal error
    20503: Outcome.TEMPORARY,  # Twilio service unavailable
    21211: Outcome.PERMANENT,  # invalid 'To' phone number
    21215: Outcome.PERMANENT,  # geo permissions do not allow calling this country
    21217: Outcome.PERMANENT,  # phone number does not appear to be valid (calls)
    21408: Outcome.PERMANENT,  # SMS to this region is not enabled on the account
    21610: Outcome.PERMANENT,  # the recipient replied STOP: unsubscribed until START
    21612: Outcome.PERMANENT,  # this To/From pair cannot be routed
    21614: Outcome.PERMANENT,  # 'To' is not a mobile number (a landline cannot get SMS)
    13224: Outcome.PERMANENT,  # invalid phone number to dial
}


def classify(status: int, code: int | None) -> Outcome:
    """The outcome of a Twilio error response (HTTP `status`, Twilio `code`)."""
    if code is not None and code in CODE_OUTCOMES:
        return CODE_OUTCOMES[code]
    if status in (408, 429) or status >= 500:  # timed out, rate limited, Twilio's fault
        return Outcome.TEMPORARY
    return Outcome.PERMANENT  # any other 4xx: this request will never be accepted


VALIDITY_SECONDS = {  # a page older than this is worthless: let Twilio drop it
    Kind.PAGE: 600,
    Kind.BUNDLE: 600,
    Kind.INFO: 4 * 3600,
}
MAX_BODY = 1600  # Twilio rejects longer bodies (21617)
RING_SECONDS = 30  # let voicemail pick up rarely; machine detection covers the rest


@dataclass(slots=True)
class _Progress:
    """Whether the current send's request headers have left this process."""

    sent: bool = False


_progress: contextvars.ContextVar[_Progress | None] = contextvars.ContextVar(
    "pager_twilio_progress", default=None
)


async def _on_headers_sent(
    session: aiohttp.ClientSession, context: types.SimpleNamespace, params: Any
) -> None:
    # Trace callbacks run in the sending task, so the context variable is its own.
    progress = _progress.get()
    if progress is not None:
        progress.sent = True


class _HttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's async client, sending Basic credentials as a plain header.

    (aiohttp 3.14 deprecates the `auth=` the stock client passes.)
    """

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the parent's signature; unused
        allow_redirects: bool = False,
    ) -> Any:
        if auth is not None:
            headers = {**(headers or {}), "Authorization": _basic(*auth)}
        return await super().request(
            method, url, params, data, headers, None, timeout, allow_redirects
        )


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _trace_config() -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(_on_headers_sent)
    return trace


class TwilioNotifier:
    """A `Notifier` over Twilio Programmable Messaging and Voice."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        public_url: str,
        api_url: str | None = None,
        timeout: float = 10.0,
        max_concurrency: int = 4,
    ) -> None:
        if timeout <= 0 or max_concurrency < 1:
            raise ValueError("timeout must be > 0 and max_concurrency >= 1")
        self._sid, self._token, self._from = account_sid, auth_token, from_number
        self._public_url = public_url.rstrip("/")
        self._api_url = api_url.rstrip("/") if api_url else None
        self._timeout = timeout
        self._max_concurrency = max_concurrency
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None
        self._slots: asyncio.Semaphore | None = None

    @classmethod
    async def create(cls, **kwargs: Any) -> TwilioNotifier:
        """A started notifier (the constructor's keyword arguments)."""
        notifier = cls(**kwargs)
        await notifier.start()
        return notifier

    async def start(self) -> None:
        """Opens the HTTP session; call inside the running event loop."""
        if self._client is not None:
            return
        self._http = _HttpClient(
            trace_configs=[_trace_config()],
            max_retries=None,  # None: no aiohttp_retry wrapper, a POST is sent once
            logger=_quiet_logger(),
        )
        self._client = Client(
            self._sid,
            self._token,
            http_client=self._http,
            # Non-empty, so the client does not fall back to os.environ, where
            # TWILIO_REGION / TWILIO_EDGE would rewrite the API host.
            environment={"PAGER": "twilio-notifier"},
        )
        if self._api_url:
            self._client.api.base_url = self._api_url
        self._slots = asyncio.Semaphore(self._max_concurrency)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = self._client = self._slots = None

    async def send(self, message: Message) -> SendResult:
        if self._client is None or self._slots is None:
            raise RuntimeError("TwilioNotifier.send before start()")
        progress = _Progress()
        token = _progress.set(progress)
        try:
            async with asyncio.timeout(self._timeout), self._slots:
                sid = await self._create(self._client, message)
            return SendResult(Outcome.ACCEPTED, provider_id=sid)
        except (TwilioRestException, TwilioServiceException) as exc:
            return _rejected(message, exc.status, exc.code, _error_text(exc))
        except Exception as exc:  # a transport reports, it never crashes the sender
            return _failed(message, progress.sent, exc)
        finally:
            _progress.reset(token)

    async def _create(self, client: Client, message: Message) -> str:
        if message.channel == "voice":
            call = await client.calls.create_async(
                to=message.phone,
                from_=self._from,
                url=f"{self._public_url}/twilio/voice?n={message.notification_id}",
                status_callback=self._status_url(message),
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                machine_detection="Enable",
                timeout=RING_SECONDS,
            )
            return str(call.sid)
        sms = await client.messages.create_async(
            to=message.phone,
            from_=self._from,
            body=message.body[:MAX_BODY],
            status_callback=self._status_url(message),
            validity_period=VALIDITY_SECONDS[message.kind],
        )
        return str(sms.sid)

    def _status_url(self, message: Message) -> str:
        # n= lets the callback find its notification even before the SID is committed.
        return f"{self._public_url}/twilio/status?n={message.notification_id}"


def _rejected(message: Message, status: int, code: int | None, text: str) -> SendResult:
    outcome = classify(status, code)
    log.warning(
        "twilio rejected %s",
        message.channel,
        extra={"notification_id": message.notification_id, "status": status, "code": code},
    )
    return SendResult(outcome, error=f"HTTP {status}: {text}", code=code)


def _failed(message: Message, sent: bool, exc: Exception) -> SendResult:
    # Before the headers went out nothing can have happened at Twilio.
    outcome = Outcome.UNKNOWN if sent else Outcome.TEMPORARY
    what = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
    log.warning(
        "twilio %s send failed: %s",
        message.channel,
        what,
        extra={"notification_id": message.notification_id, "outcome": str(outcome)},
    )
    return SendResult(outcome, error=what)


def _error_text(exc: TwilioRestException | TwilioServiceException) -> str:
    if isinstance(exc, TwilioServiceException):
        return str(exc.detail or exc.title)
    return str(exc.msg)


def _quiet_logger() -> logging.Logger:
    # The client logs every request (numbers, bodies) at INFO: keep that out of our logs.
    logger = logging.getLogger(f"{__name__}.http")
    logger.setLevel(logging.WARNING)
    return logger
