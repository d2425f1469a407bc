"""Input that used to reach the database and fail there with a 500 (issue 12), on both databases.

NUL in any stored text, a generic key longer than its column, a time that
overflows on conversion and a body that does not decode are each a 400 that
names the field, and change nothing. What fits is stored faithfully.
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import pytest
from sqlalchemy import select

from pager.store.models import Alert, Incident
from tests.conftest import SHARED
from tests.harness import API_TOKEN, WEBHOOK_TOKEN, Harness
from tests.ingest.test_webhook_errors import rejected, rows
from tests.scenario.policies import BASE

AM = "/api/v1/alerts/alertmanager"
GENERIC = "/api/v1/alerts"
EXAMPLE: dict[str, Any] = json.loads((SHARED / "alertmanager" / "example-firing.json").read_bytes())


async def post(h: Harness, body: bytes, path: str = AM, **headers: str) -> tuple[int, Any]:
    sent = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}
    resp = await h.client.post(path, data=body, headers=sent | headers)
    return resp.status, await resp.json()


def _am(change: Any) -> bytes:
    payload = json.loads(json.dumps(EXAMPLE))
    change(payload)
    return json.dumps(payload).encode()


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def change(payload: Any) -> None:
        target = payload
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def _label_key(payload: Any) -> None:
    payload["alerts"][0]["labels"]["bad\x00key"] = "x"


NUL_CASES = [
    pytest.param(
        _set(("alerts", 0, "labels", "instance"), "db\x001"), "alerts.0.labels.instance", id="label"
    ),
    pytest.param(_label_key, "alerts.0.labels.bad\x00key.[key]", id="label-name"),
    pytest.param(
        _set(("alerts", 0, "annotations", "summary"), "a\x00b"),
        "alerts.0.annotations.summary",
        id="annotation",
    ),
    pytest.param(_set(("groupKey",), "{}:\x00"), "groupKey", id="group-key"),
    pytest.param(
        _set(("alerts", 0, "fingerprint"), "ab\x00cd"), "alerts.0.fingerprint", id="fingerprint"
    ),
    pytest.param(
        _set(("alerts", 0, "generatorURL"), "http://x/\x00"),
        "alerts.0.generatorURL",
        id="generator-url",
    ),
]


@pytest.mark.parametrize(("change", "field"), NUL_CASES)
async def test_nul_in_any_alertmanager_text_is_a_400(make_harness, change, field) -> None:
    h = await make_harness(BASE)
    status, body = await post(h, _am(change))
    assert status == 400
    assert body["error"].startswith(f"{field}: must not contain the NUL character")
    assert await rows(h) == (0, 0, 0)
    assert rejected(h, "malformed") == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"summary": "disk\x00full"}, "summary"),
        ({"summary": "x", "labels": {"job": "a\x00"}}, "labels.job"),
        ({"summary": "x", "annotations": {"a": "\x00"}}, "annotations.a"),
        ({"summary": "x", "dedup_key": "k\x00"}, "dedup_key"),
    ],
)
async def test_nul_in_any_generic_text_is_a_400(make_harness, payload, field) -> None:
    h = await make_harness(BASE)
    status, body = await post(h, json.dumps(payload).encode(), GENERIC)
    assert (status, body["error"].split(": ")[0]) == (400, field)
    assert await rows(h) == (0, 0, 0)


async def test_a_dedup_key_longer_than_its_column_is_a_400(make_harness) -> None:
    h = await make_harness(BASE)
    for length in (65, 200):
        status, body = await post(
            h, json.dumps({"summary": "x", "dedup_key": "k" * length}).encode(), GENERIC
        )
        assert status == 400
        assert body["error"] == "dedup_key: String should have at most 64 characters"
    assert await rows(h) == (0, 0, 0)


async def test_a_dedup_key_that_fits_is_stored_as_given(make_harness) -> None:
    h = await make_harness(BASE)
    key = "k" * 63 + "é"
    status, _ = await post(h, json.dumps({"summary": "x", "dedup_key": key}).encode(), GENERIC)
    assert status == 200
    async with h.pager.db.read() as session:
        assert list(await session.scalars(select(Alert.fingerprint))) == [key]


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
async def test_a_time_that_overflows_in_utc_is_a_400(make_harness, when) -> None:
    h = await make_harness(BASE)
    status, body = await post(h, _am(_set(("alerts", 0, "startsAt"), when)))
    assert status == 400
    assert body["error"] == "alerts.0.startsAt: the time is out of range once converted to UTC"
    assert await rows(h) == (0, 0, 0)


async def test_times_with_offsets_are_stored_as_the_instant_they_name(make_harness) -> None:
    h = await make_harness(BASE)
    status, _ = await post(
        h, _am(_set(("alerts", 0, "startsAt"), "2026-12-01T22:35:52.180035357+01:00"))
    )
    assert status == 200
    async with h.pager.db.read() as session:
        starts = sorted(await session.scalars(select(Alert.starts_at)), key=str)
    assert starts[-1].isoformat() == "2026-12-01T21:35:52.180035+00:00"


@pytest.mark.parametrize(
    ("encoding", "data", "message"),
    [
        ("gzip", b"this is not gzip", "body: not valid gzip data (Content-Encoding: gzip)"),
        ("deflate", b"nor deflate", "body: not valid deflate data (Content-Encoding: deflate)"),
        # cut short: the stream ends early, so what decodes is half a JSON document
        ("gzip", gzip.compress(json.dumps(EXAMPLE).encode())[:-400], "body is not valid JSON"),
    ],
)
async def test_a_body_that_does_not_decode_is_a_400(make_harness, encoding, data, message) -> None:
    h = await make_harness(BASE)
    status, body = await post(h, data, **{"Content-Encoding": encoding})
    assert status == 400
    assert body["error"].startswith(message)
    assert await rows(h) == (0, 0, 0)
    assert rejected(h, "malformed") == 1


@pytest.mark.parametrize(
    ("encoding", "encode"), [("gzip", gzip.compress), ("deflate", zlib.compress)]
)
async def test_an_encoded_body_is_read(make_harness, encoding, encode) -> None:
    h = await make_harness(BASE)
    status, body = await post(
        h, encode(json.dumps(EXAMPLE).encode()), **{"Content-Encoding": encoding}
    )
    assert (status, len(body["incidents_opened"])) == (200, 1)


async def test_a_generic_alert_resolves_by_its_key_alone(make_harness) -> None:
    """Issue 14: {"dedup_key", "status": "resolved"} got 400 "summary: Field required"."""
    h = await make_harness(BASE)
    fire = {"summary": "backup failed", "labels": {"severity": "critical"}, "dedup_key": "nightly"}
    status, fired = await post(h, json.dumps(fire).encode(), GENERIC)
    assert (status, len(fired["incidents_opened"])) == (200, 1)
    resolve = {"dedup_key": "nightly", "status": "resolved"}
    status, done = await post(h, json.dumps(resolve).encode(), GENERIC)
    assert (status, done["incidents_resolved"]) == (200, fired["incidents"])
    async with h.pager.db.read() as session:
        incident = await session.scalar(select(Incident))
        alert = await session.scalar(select(Alert))
    assert incident is not None
    assert incident.state == "resolved"
    assert alert is not None
    assert alert.annotations["summary"] == "backup failed"


async def test_a_generic_resolve_by_labels_without_summary(make_harness) -> None:
    h = await make_harness(BASE)
    labels = {"severity": "critical", "job": "backup"}
    await post(h, json.dumps({"summary": "x", "labels": labels}).encode(), GENERIC)
    status, done = await post(
        h, json.dumps({"labels": labels, "status": "resolved"}).encode(), GENERIC
    )
    assert (status, len(done["incidents_resolved"])) == (200, 1)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"dedup_key": "k"}, "summary: Field required (a firing alert needs one)"),
        (
            {"status": "resolved"},
            "dedup_key: a resolve needs the dedup_key (or labels) it fired with",
        ),
    ],
)
async def test_what_a_generic_alert_still_needs(make_harness, payload, message) -> None:
    h = await make_harness(BASE)
    status, body = await post(h, json.dumps(payload).encode(), GENERIC)
    assert (status, body["error"]) == (400, message)
    assert await rows(h) == (0, 0, 0)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/twilio/sms", {"Content-Type": "application/x-www-form-urlencoded"}),
        ("/api/v1/incidents/1/ack", {"Authorization": f"Bearer {API_TOKEN}"}),
    ],
)
async def test_an_undecodable_body_elsewhere_is_a_400_too(make_harness, path, headers) -> None:
    twilio = {"twilio_account_sid": "AC" + "0" * 32, "twilio_auth_token": "t" * 32}
    h = await make_harness(BASE, twilio_from="+15005550006", **twilio)
    sent = headers | {"Content-Encoding": "gzip", "X-Twilio-Signature": "x"}
    status, body = await post(h, b"not gzip", path, **sent)
    assert (status, body["error"]) == (400, "body: not valid gzip data (Content-Encoding: gzip)")
