"""TwilioNotifier: sends a page as an SMS or a voice call through Twilio's REST API,
and finds out afterwards whether a send of unknown fate went out.

What it guarantees:
- One HTTP request per `send` or `find_sent`, never a retry: a repeated POST could
  page twice, so retries belong to the notification's state machine.
- Each request may take `timeout` seconds, counted from when it starts: time
  spent waiting for one of the `max_concurrency` slots is not charged to it
  (Twilio's async client ignores its own timeout, so the bound is ours).
- At most `max_concurrency` requests in flight (Twilio answers 20429 beyond its limit).
- Requests go to `api_url` when given (tests point it at a stand-in), and
  TWILIO_REGION / TWILIO_EDGE in the environment cannot redirect them.
- TEMPORARY only when the request body surely did not reach Twilio, or Twilio
  said "later" (with its Retry-After); UNKNOWN when it may have been sent.
- `find_sent` lists the account's Messages (To, From, DateSent>) or Calls (To,
  From, StartTime>) since the attempt, one page; any failure is LookupFailed.

The aiohttp session lives inside the running loop: `await start()` (or
`TwilioNotifier.create(...)`) before sending, `await close()` on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.rest import Client

from pager.core.outcome import Outcome
from pager.core.vocabulary import Channel
from pager.notify.base import Kind, LookupFailed, Message, SendResult
from pager.notify.twilio_http import Exchange, HttpClient, track, untrack

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
# One page of the list, as large as Twilio serves (1000): every message to that
# person from our number since the attempt, also in a storm of hundreds a minute.
LOOKUP_PAGE = 1000
CLOCK_SLACK = timedelta(minutes=1)  # Twilio's clock against ours


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
        self._http: HttpClient | None = None
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
        self._http = HttpClient(logger=_quiet_logger())
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

    def _started(self) -> tuple[Client, asyncio.Semaphore]:
        if self._client is None or self._slots is None:
            raise RuntimeError("TwilioNotifier used before start()")
        return self._client, self._slots

    async def send(self, message: Message) -> SendResult:
        client, slots = self._started()
        exchange, token = track()
        try:
            async with slots, asyncio.timeout(self._timeout):  # the clock starts in the slot
                sid = await self._create(client, message)
            return SendResult(Outcome.ACCEPTED, provider_id=sid)
        except (TwilioRestException, TwilioServiceException) as exc:
            return _rejected(message, exc.status, exc.code, _error_text(exc), exchange)
        except Exception as exc:  # a transport reports, it never crashes the sender
            return _failed(message, exchange, exc)
        finally:
            untrack(token)

    async def find_sent(self, message: Message, since: datetime) -> Sequence[str]:
        client, slots = self._started()
        _, token = track()
        try:
            async with slots, asyncio.timeout(self._timeout):
                return await self._list(client, message, since - CLOCK_SLACK)
        except (TwilioException, TwilioServiceException) as exc:
            raise LookupFailed(f"Twilio refused the list: {exc}") from exc
        except Exception as exc:
            what = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            raise LookupFailed(f"Twilio could not be asked: {what}") from exc
        finally:
            untrack(token)

    async def _list(self, client: Client, message: Message, after: datetime) -> list[str]:
        # page_async, not list_async: one request, never a walk through next pages.
        if message.channel == Channel.VOICE:
            page = await client.calls.page_async(
                to=message.phone, from_=self._from, start_time_after=after, page_size=LOOKUP_PAGE
            )
            calls = sorted(page, key=lambda c: c.date_created or c.start_time or after)
            return [str(c.sid) for c in calls]
        page = await client.messages.page_async(
            to=message.phone, from_=self._from, date_sent_after=after, page_size=LOOKUP_PAGE
        )
        sms = sorted(page, key=lambda m: m.date_created or m.date_sent or after)
        body = message.body[:MAX_BODY]
        return [str(m.sid) for m in sms if m.body == body]

    async def _create(self, client: Client, message: Message) -> str:
        if message.channel == Channel.VOICE:
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


def _rejected(
    message: Message, status: int, code: int | None, text: str, exchange: Exchange
) -> SendResult:
    outcome = classify(status, code)
    log.warning(
        "twilio rejected %s",
        message.channel,
        extra={"notification_id": message.notification_id, "status": status, "code": code},
    )
    retry_after = exchange.retry_after if outcome is Outcome.TEMPORARY else None
    return SendResult(outcome, error=f"HTTP {status}: {text}", code=code, retry_after=retry_after)


def _failed(message: Message, exchange: Exchange, exc: Exception) -> SendResult:
    # Until the whole body was written Twilio cannot have acted on the request.
    outcome = Outcome.UNKNOWN if exchange.body_written else Outcome.TEMPORARY
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
