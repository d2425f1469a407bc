"""Contract: every request TwilioNotifier sends, creating messages and calls and
listing them, is valid by Twilio's own OpenAPI document.

Stoplight Prism 5.14.2 serves the document (patched for form arrays, see
prism.py) and validates each request against it; an invalid one gets 422,
which TwilioNotifier reports as PERMANENT, so ACCEPTED means Prism agreed.
Skipped only when `node` is missing; Prism itself is installed on demand by
.ci/install-prism.sh.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from pager.core.outcome import Outcome
from pager.notify.base import Kind, Message
from pager.notify.twilio import TwilioNotifier
from pager.policy.model import Channel
from tests.contract.prism import (
    FORM,
    Prism,
    node_available,
    patch_array_encoding,
    patch_page_uris,
    start_prism,
    twilio_spec,
    write_patched_spec,
)
from tests.fakes.fake_twilio import FakeTwilio

ACCOUNT = "AC" + "0123456789abcdef" * 2  # the spec's pattern: ^AC[0-9a-fA-F]{32}$
PUBLIC = "https://pager.example.com"
CALLS = "/2010-04-01/Accounts/{AccountSid}/Calls.json"
MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    if not node_available():
        pytest.skip("node is not installed: the Prism contract tests need Node.js")
    workdir = tmp_path_factory.mktemp("prism")
    spec = write_patched_spec(twilio_spec(), workdir / "twilio_api_v2010.patched.json")
    server = start_prism(spec, workdir)
    yield server
    server.stop()


async def notifier_for(prism: Prism, public_url: str = PUBLIC) -> TwilioNotifier:
    return await TwilioNotifier.create(
        account_sid=ACCOUNT,
        auth_token="contract-test-token",
        from_number="+15005550006",
        public_url=public_url,
        api_url=prism.url,
        timeout=10,
    )


@pytest.fixture
async def notifier(prism: Prism) -> AsyncIterator[TwilioNotifier]:
    twilio = await notifier_for(prism)
    yield twilio
    await twilio.close()


def message(channel: Channel, kind: Kind = Kind.PAGE) -> Message:
    body = "[P1] #42 HighErrorRate api (3 alerts) - 5xx above 5%. Reply 42A ack, 42R resolve"
    return Message(11, 42, "alice", "+15550100001", channel, kind, body)


@pytest.mark.parametrize("kind", list(Kind))
async def test_sms_conforms(notifier: TwilioNotifier, kind: Kind) -> None:
    result = await notifier.send(message(Channel.SMS, kind))

    assert result.outcome is Outcome.ACCEPTED, result.error
    assert result.provider_id is not None
    assert result.provider_id.startswith("SM")


async def test_call_conforms(notifier: TwilioNotifier) -> None:
    result = await notifier.send(message(Channel.VOICE))

    assert result.outcome is Outcome.ACCEPTED, result.error
    assert result.provider_id is not None
    assert result.provider_id.startswith("CA")


async def test_prism_refuses_what_twilio_would(prism: Prism) -> None:
    # The control: a Url that is no URI breaks the spec, and the test would see it.
    twilio = await notifier_for(prism, public_url="pager")
    try:
        result = await twilio.send(message(Channel.VOICE))
    finally:
        await twilio.close()

    assert (result.outcome, result.code) == (Outcome.PERMANENT, 422)


def test_the_patch_makes_form_arrays_explode() -> None:
    spec = json.loads(Path(twilio_spec()).read_text(encoding="utf-8"))

    assert patch_array_encoding(spec) > 0
    calls = spec["paths"][CALLS]["post"]["requestBody"]["content"][FORM]
    messages = spec["paths"][MESSAGES]["post"]["requestBody"]["content"][FORM]
    assert calls["encoding"]["StatusCallbackEvent"] == {"style": "form", "explode": True}
    assert messages["encoding"]["MediaUrl"] == {"style": "form", "explode": True}
    assert "Body" not in messages["encoding"]  # only arrays
    assert patch_array_encoding(spec) == 0  # idempotent


# --- the list requests that settle unknown sends (issue 12, cause 3) -------------


@pytest.mark.parametrize("channel", ["sms", "voice"])
async def test_list_requests_conform(notifier: TwilioNotifier, channel: Channel) -> None:
    """Messages by To, From, DateSent>; Calls by To, From, StartTime>; one page.
    A request Prism refused would be LookupFailed; its example page parses."""
    found = await notifier.find_sent(message(channel), datetime.now(UTC) - timedelta(minutes=5))

    assert isinstance(found, list)


@pytest.mark.parametrize("path", [MESSAGES, CALLS])
async def test_prism_refuses_a_list_request_twilio_would(prism: Prism, path: str) -> None:
    # The control: a page size out of the spec's range, and Prism says so.
    url = f"{prism.url}{path.format(AccountSid=ACCOUNT)}?PageSize=0"
    headers = {"Authorization": aiohttp.encode_basic_auth(ACCOUNT, "contract-test-token")}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        assert resp.status == 422, await resp.text()


@pytest.mark.parametrize(("channel", "path"), [("sms", MESSAGES), ("voice", CALLS)])
async def test_list_filters_are_the_documented_parameters(channel: Channel, path: str) -> None:
    """Prism accepts unknown query keys, so the names are checked against the
    document itself: each key the notifier sends is a parameter of the operation."""
    documented = _query_parameters(path)
    async with FakeTwilio(account_sid=ACCOUNT) as fake:
        twilio = await TwilioNotifier.create(
            account_sid=ACCOUNT,
            auth_token=fake.auth_token,
            from_number="+15005550006",
            public_url=PUBLIC,
            api_url=fake.url,
        )
        try:
            await twilio.find_sent(message(channel), datetime.now(UTC))
        finally:
            await twilio.close()
    [query] = fake.list_requests
    sent = set(query) - {"kind"}
    assert sent <= documented
    since = "DateSent>" if channel == "sms" else "StartTime>"
    assert {"To", "From", since, "PageSize"} <= sent


def _query_parameters(path: str) -> set[str]:
    spec = json.loads(Path(twilio_spec()).read_text(encoding="utf-8"))
    return {p["name"] for p in spec["paths"][path]["get"]["parameters"] if p["in"] == "query"}


def test_the_patch_drops_only_the_page_uri_formats() -> None:
    spec = json.loads(Path(twilio_spec()).read_text(encoding="utf-8"))
    assert patch_page_uris(spec) > 0
    page = spec["paths"][MESSAGES]["get"]["responses"]["200"]["content"]["application/json"]
    assert "format" not in page["schema"]["properties"]["uri"]
    assert patch_page_uris(spec) == 0  # idempotent
