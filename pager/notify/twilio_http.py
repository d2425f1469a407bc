"""The HTTP client under TwilioNotifier: Twilio's own client interface, on aiohttp,
telling the notifier how far each request got.

What it guarantees:
- One request per call, never a retry (no aiohttp_retry wrapper): Twilio has no
  idempotency key for messages or calls, so a repeated POST could page twice.
- `Exchange.body_written` says whether the request body was handed to the
  kernel in full (aiohttp's UploadTracker). Before that Twilio cannot have acted
  on it, so a failure is a plain retryable one; after it, the message may exist.
- `Exchange.retry_after` keeps a 429/503 answer's `Retry-After` (in seconds),
  which Twilio's exceptions do not carry.
- Basic credentials go as a plain header (aiohttp 3.14 deprecates `auth=`).
"""

from __future__ import annotations

import base64
import contextvars
import logging
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response


@dataclass(slots=True)
class Exchange:
    """How far the current task's request got."""

    tracker: aiohttp.UploadTracker | None = None
    retry_after: float | None = None

    @property
    def body_written(self) -> bool:
        if self.tracker is None:
            return False
        done = self.tracker.upload_complete
        return done.done() and not done.cancelled() and done.exception() is None


_exchange: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar(
    "pager_twilio_exchange", default=None
)


def track() -> tuple[Exchange, contextvars.Token[Exchange | None]]:
    """A fresh Exchange for the calling task's next request (reset with the token)."""
    exchange = Exchange()
    return exchange, _exchange.set(exchange)


def untrack(token: contextvars.Token[Exchange | None]) -> None:
    _exchange.reset(token)


class HttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(max_retries=None, logger=logger)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the parent's signature; the caller bounds time
        allow_redirects: bool = False,
    ) -> Any:
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = _basic(*auth)
        exchange = _exchange.get() or Exchange()
        exchange.tracker = aiohttp.UploadTracker()
        async with self.session.request(
            method.upper(),
            url,
            params=params,
            data=data,
            headers=headers,
            allow_redirects=allow_redirects,
            upload_tracker=exchange.tracker,
        ) as response:
            text = await response.text()
        exchange.retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return Response(response.status, text, response.headers)


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds: a number, or an HTTP date from now."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
