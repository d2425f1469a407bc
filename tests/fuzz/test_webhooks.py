"""Fuzzing the webhooks and the Twilio endpoints on both databases (issue 12):
for any body or signed form, no 5xx, nothing logged at ERROR or with a
traceback, and no change to any table after a 4xx (tests/fuzz/app.py).

What the strategies leave out, and why, is in tests/fuzz/strategies.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from tests.fuzz import strategies as s
from tests.fuzz.app import TWILIO, FuzzApp, fuzz_app
from tests.harness import WEBHOOK_TOKEN
from tests.scenario.policies import BASE

# PAGER_FUZZ_EXAMPLES=5000 for a longer hunt; the suite's run stays short.
EXAMPLES = settings(
    max_examples=int(os.environ.get("PAGER_FUZZ_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
JSON_HEADERS = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[FuzzApp]:
    with fuzz_app(db_url, tmp_path, BASE) as fuzz:
        fuzz.seed()
        yield fuzz


def test_alertmanager_webhook(app: FuzzApp) -> None:
    @EXAMPLES
    @given(body=s.bodies(s.alertmanager))
    def post(body: bytes) -> None:
        app.check("POST", "/api/v1/alerts/alertmanager", body, JSON_HEADERS)

    post()


def test_generic_webhook(app: FuzzApp) -> None:
    @EXAMPLES
    @given(body=s.bodies(s.generic))
    def post(body: bytes) -> None:
        app.check("POST", "/api/v1/alerts", body, JSON_HEADERS)

    post()


def signature(path: str, form: dict[str, str]) -> str:
    url = TWILIO["public_url"] + path
    return str(RequestValidator(TWILIO["twilio_auth_token"]).compute_signature(url, form))


def test_signed_twilio_requests(app: FuzzApp) -> None:
    @EXAMPLES
    @given(request=s.twilio_requests)
    def post(request: tuple[str, dict[str, str]]) -> None:
        path, form = request
        note(f"POST {path} {form!r}")
        headers = {"X-Twilio-Signature": signature(path, form), "Content-Type": FORM}
        app.check("POST", path, urlencode(form).encode(), headers)

    post()


def test_unsigned_or_unreadable_twilio_requests(app: FuzzApp) -> None:
    @EXAMPLES
    @given(
        path=s.twilio_paths,
        body=st.binary(max_size=60) | s.sms | s.status,
        sign=st.sampled_from(["", "bm90IGEgc2lnbmF0dXJl"]),
    )
    def post(path: str, body: Any, sign: str) -> None:
        headers = {"Content-Type": FORM}
        if sign:
            headers["X-Twilio-Signature"] = sign
        data = body if isinstance(body, bytes) else urlencode(body).encode()
        assert app.check("POST", path, data, headers) in (400, 403)

    post()
