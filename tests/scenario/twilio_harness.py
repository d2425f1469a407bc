"""The Twilio scenario harness: the real app with its real TwilioNotifier (built
from settings, as `pager serve` builds it) talking to FakeTwilio, and FakeTwilio
driving the daemon's real HTTP server the way Twilio would.

Twilio reaches pager at `PUBLIC_URL` (what the daemon signs and checks
against, as behind a proxy); the fake posts to the test server's real address
(`daemon_url`) but signs over the public URL, so every webhook goes through the
real signature check.

    h = await make_twilio_harness(BASE)
    incident = await h.fire("alertname=Down", "severity=critical")
    await h.settle()
    page = h.fake.expect_sms(ALICE, "Down")
    await h.status(page.sid, "delivered")
    await h.reply(ALICE, f"{incident}A")
    h.fake.expect_sms(ALICE, "Acknowledged")
    h.fake.assert_no_more()
"""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator
from yarl import URL

from pager.clock import FakeClock
from tests.fakes.fake_twilio import FakeTwilio, Recorded, Reply
from tests.harness import Harness

PUBLIC_URL = "https://pager.example.test"
FROM = "+15005550006"
ALICE, BOB, CAROL, ERIN = "+15550100001", "+15550100002", "+15550100003", "+15550100005"
STRANGER = "+15559999999"


def twilio_settings(fake: FakeTwilio) -> dict[str, Any]:
    """The settings that switch the daemon to real Twilio, pointed at the fake."""
    return {
        "twilio_account_sid": fake.account_sid,
        "twilio_auth_token": fake.auth_token,
        "twilio_from": FROM,
        "twilio_api_url": fake.url,
        "public_url": PUBLIC_URL,
        "send_timeout": 5.0,
    }


class TwilioHarness(Harness):
    """`Harness` (fire, fast_forward, the API) plus the fake Twilio on the wire.

    There is no FakeNotifier here: every page goes through TwilioNotifier's
    HTTP requests and is expected on `fake`.
    """

    def __init__(self, client: TestClient[Any, Any], clock: FakeClock, fake: FakeTwilio) -> None:
        self.client, self.clock, self.fake = client, clock, fake

    @property
    def daemon_url(self) -> str:
        """Where the daemon really listens (the fake posts here, signing PUBLIC_URL)."""
        return str(self.client.make_url("")).rstrip("/")

    async def reply(self, phone: str, body: str) -> Reply:
        """`phone` texts the daemon; its TwiML answer is recorded by the fake as an SMS."""
        return await self.fake.inbound_sms(self.daemon_url, phone, body, public_url=PUBLIC_URL)

    async def status(self, sid: str, status: str, error_code: int | None = None) -> Reply:
        return await self.fake.send_status(self.daemon_url, sid, status, error_code)

    async def expect_voice(self, phone: str, *words: str, answered_by: str = "human") -> Recorded:
        """Consumes the next call to `phone`; with `words`, answers it and checks what it said."""
        return await self.fake.expect_voice(
            phone, *words, answered_by=answered_by, daemon_url=self.daemon_url
        )

    async def answer(self, call: Recorded, answered_by: str = "human") -> str:
        return await call.answer(answered_by, self.daemon_url)

    async def press(self, call: Recorded, digits: str) -> str:
        return await call.press(digits, self.daemon_url)

    async def signed_post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        """Posts `form` to `path` (sent as written, already percent-encoded) signed
        as Twilio signs: over PUBLIC_URL + path and the fields. For replays and
        for forms Twilio itself would never send."""
        signature = RequestValidator(self.fake.auth_token).compute_signature(
            PUBLIC_URL + path, form
        )
        resp = await self.client.session.post(
            URL(self.daemon_url + path, encoded=True),
            data=form,
            headers={"X-Twilio-Signature": signature},
        )
        return resp.status, await resp.text()

    def metric(self, name: str, **labels: str) -> float:
        value = self.pager.metrics.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value

    async def state(self, incident_id: int) -> tuple[str, str | None]:
        detail = await self.incident(incident_id)
        return detail["state"], detail["acked_by"]

    async def notifications(self, incident_id: int) -> list[tuple[str, str, str]]:
        """(person, channel, state) of every notification of an incident, in order."""
        detail = await self.incident(incident_id)
        return [(n["person"], n["channel"], n["state"]) for n in detail["notifications"]]
