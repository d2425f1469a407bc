"""The REST half of FakeTwilio: what a request is recorded as, the scripted
faults, and the JSON Twilio answers with (resources, list pages, errors).

List pages filter like Twilio's: Messages by `To`, `From`, `DateSent>`; Calls
by `To`, `From`, `StartTime>`; newest first, `PageSize` per page.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.twilio_driver import TwilioDriver

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
CODE_FOR_STATUS = {429: 20429, 500: 20500, 503: 20503}

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
    sid: str  # "" when no message or call was created
    to: str
    from_: str
    status: int  # the HTTP status the fake answered (0: none yet, or the connection was cut)
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
    created_at: datetime | None = None  # when Twilio created the message or call
    fake: TwilioDriver | None = field(default=None, repr=False, compare=False)

    @property
    def accepted(self) -> bool:
        """Twilio has it: it will reach the phone, whatever the client heard back."""
        return bool(self.sid)

    def describe(self) -> str:
        what = self.body if self.kind == "sms" else f"call url={self.url}"
        return f"{self.kind} to {self.to} [{self.status}] {what!r}"

    async def answer(self, answered_by: str = "human", daemon_url: str | None = None) -> str:
        return await self._fake().answer_call(self.sid, answered_by, daemon_url)

    async def press(self, digits: str, daemon_url: str | None = None) -> str:
        return await self._fake().press(self.sid, digits, daemon_url)

    def spoken(self) -> str:
        return spoken(self.twiml or "")

    def _fake(self) -> TwilioDriver:
        assert self.fake is not None, "not recorded by a FakeTwilio"
        return self.fake


@dataclass
class Fault:
    """How the fake answers the next request(s) to a number."""

    status: int = 201  # answered with (an error when not 201)
    code: int | None = None  # Twilio error code of the error body
    times: int | None = None  # None: every time
    delay: float = 0.0  # seconds before answering (a slow or hanging Twilio)
    creates: bool = True  # the message or call exists at Twilio (listable, delivered)
    cut: bool = False  # the connection is cut instead of answered (after the delay)
    retry_after: str | None = None  # the Retry-After header of the answer
    gate: asyncio.Event | None = None  # answered only once this is set (after the delay)


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


def retarget(url: str, daemon_url: str | None) -> str:
    """`url` sent to `daemon_url` instead of its own origin (path and query kept raw)."""
    if not daemon_url:
        return url
    parts = urlsplit(url)
    return daemon_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def resource(record: Recorded, account_sid: str, api: str) -> dict[str, Any]:
    """A message or call as Twilio shows it (created, answered with 201, and listed)."""
    when = format_datetime(record.created_at) if record.created_at else None
    plural = "Messages" if record.kind == "sms" else "Calls"
    common = {
        "sid": record.sid,
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "to": record.to,
        "from": record.from_,
        "status": "queued",
        "direction": "outbound-api",
        "date_created": when,
        "date_updated": when,
        "price": None,
        "price_unit": "USD",
        "uri": f"{api}/Accounts/{account_sid}/{plural}/{record.sid}.json",
    }
    if record.kind == "sms":
        return common | {
            "body": record.body,
            "num_segments": "1",
            "num_media": "0",
            "date_sent": when,
            "error_code": None,
            "error_message": None,
            "messaging_service_sid": None,
        }
    return common | {
        "answered_by": None,
        "duration": None,
        "start_time": when,
        "end_time": None,
        "parent_call_sid": None,
        "queue_time": "0",
    }


def listed(
    records: Sequence[Recorded], kind: Literal["sms", "voice"], query: Mapping[str, str]
) -> list[Recorded]:
    """The created messages (or calls) that match a list request's filters, newest first."""
    after = _instant(query.get("DateSent>" if kind == "sms" else "StartTime>"))
    found = [
        r
        for r in records
        if r.kind == kind
        and r.via == "api"
        and r.sid
        and r.created_at is not None
        and query.get("To", r.to) == r.to
        and query.get("From", r.from_) == r.from_
        and (after is None or r.created_at > after)
    ]
    return sorted(found, key=lambda r: r.created_at or datetime.min, reverse=True)


def page(
    records: Sequence[Recorded], kind: Literal["sms", "voice"], path: str, size: int, **ids: str
) -> dict[str, Any]:
    """One list page (the first) in Twilio's v2010 shape."""
    key = "messages" if kind == "sms" else "calls"
    shown = records[:size]
    return {
        key: [resource(r, ids["account_sid"], ids["api"]) for r in shown],
        "start": 0,
        "end": max(0, len(shown) - 1),
        "page": 0,
        "page_size": size,
        "uri": f"{path}?PageSize={size}&Page=0",
        "first_page_uri": f"{path}?PageSize={size}&Page=0",
        "next_page_uri": None,
        "previous_page_uri": None,
    }


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def error(status: int, code: int | None, retry_after: str | None = None) -> web.Response:
    code = code or status
    body = {
        "code": code,
        "message": ERROR_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    headers = {"Retry-After": retry_after} if retry_after else None
    return web.json_response(body, status=status, headers=headers)


def form_value(value: str | None) -> int | None:
    return int(value) if value is not None and value.lstrip("-").isdigit() else None
