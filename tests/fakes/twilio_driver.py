"""The outbound half of FakeTwilio: driving the daemon the way Twilio does.

Signed status callbacks, inbound SMS, answering a call and pressing keys,
each signed with the auth token by `RequestValidator.compute_signature` over
the URL as recorded. A mixin of FakeTwilio, which holds what it needs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from urllib.parse import urljoin

from aiohttp import ClientSession
from twilio.request_validator import RequestValidator
from yarl import URL

from tests.fakes.twilio_rest import (
    CALL_EVENTS,
    SMS_STATUSES,
    Recorded,
    Reply,
    retarget,
    twiml_messages,
)


class TwilioDriver:
    account_sid: str
    auth_token: str
    requests: list[Recorded]
    _session: ClientSession | None

    def _new_sid(self, prefix: str) -> str:
        raise NotImplementedError

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
        target = URL(retarget(url, daemon_url), encoded=True)
        headers = {"X-Twilio-Signature": signature}
        async with self._session.post(target, data=dict(params), headers=headers) as resp:
            return Reply(resp.status, await resp.text())
