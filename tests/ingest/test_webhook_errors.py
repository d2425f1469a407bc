"""Bad input gets a clear error and changes nothing (both databases)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from pager.store.models import Alert, Event, Incident
from tests.conftest import SHARED
from tests.harness import WEBHOOK_TOKEN, Harness
from tests.scenario.policies import BASE

AM = "/api/v1/alerts/alertmanager"
EXAMPLE = (SHARED / "alertmanager" / "example-firing.json").read_bytes()


async def rows(h: Harness) -> tuple[int, int, int]:
    async with h.pager.db.read() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(m))
            for m in (Incident, Alert, Event)
        ]
    return tuple(int(c or 0) for c in counts)  # type: ignore[return-value]


async def post(h: Harness, body: bytes, token: str | None = WEBHOOK_TOKEN, path: str = AM):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    resp = await h.client.post(path, data=body, headers=headers)
    return resp.status, await resp.json()


def rejected(h: Harness, reason: str) -> float:
    return (
        h.pager.metrics.registry.get_sample_value(
            "pager_webhook_rejected_total", {"reason": reason}
        )
        or 0.0
    )


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "body is not valid JSON"),
        (b"[]", 400, "body: Input should be an object"),
        (b'{"version": "3", "status": "firing", "groupKey": "k", "alerts": []}', 400, "version"),
        (
            json.dumps(
                {
                    **json.loads(EXAMPLE),
                    "alerts": [{"status": "firing", "labels": "x", "fingerprint": "ab"}],
                }
            ).encode(),
            400,
            "alerts.0.labels",
        ),
        (json.dumps({**json.loads(EXAMPLE), "groupKey": ""}).encode(), 400, "groupKey"),
    ],
)
async def test_malformed_body_is_400_and_writes_nothing(make_harness, body, status, message):
    h = await make_harness(BASE)
    got_status, got = await post(h, body)
    assert got_status == status
    assert message in got["error"]
    assert await rows(h) == (0, 0, 0)
    assert rejected(h, "malformed") == 1


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
async def test_missing_or_wrong_token_is_401(make_harness, token):
    h = await make_harness(BASE)
    status, body = await post(h, EXAMPLE, token=token)
    assert status == 401
    assert body == {"error": "missing or wrong bearer token"}
    assert await rows(h) == (0, 0, 0)
    assert rejected(h, "unauthorized") == 1


async def test_generic_webhook_needs_the_token_too(make_harness):
    h = await make_harness(BASE)
    status, _ = await post(h, b'{"summary": "x"}', token="nope", path="/api/v1/alerts")
    assert status == 401
    assert await rows(h) == (0, 0, 0)


async def test_body_over_the_limit_is_413(make_harness):
    h = await make_harness(BASE, max_body_bytes=4096)
    payload = json.loads(EXAMPLE)
    payload["alerts"][0]["annotations"]["description"] = "x" * 5000
    status, body = await post(h, json.dumps(payload).encode())
    assert status == 413
    assert "over the limit" in body["error"]
    assert await rows(h) == (0, 0, 0)
    assert rejected(h, "too_large") == 1


async def test_generic_webhook_names_the_bad_field(make_harness):
    h = await make_harness(BASE)
    status, body = await post(h, b'{"summary": "x", "status": "burning"}', path="/api/v1/alerts")
    assert status == 400
    assert body["error"].startswith("status:")
    status, body = await post(h, b'{"summary": "x", "colour": "red"}', path="/api/v1/alerts")
    assert (status, body["error"].split(":")[0]) == (400, "colour")
    assert await rows(h) == (0, 0, 0)
