"""Alertmanager's times read as Go writes them, whatever the host's time zone.

Alertmanager (or Prometheus) outside UTC writes `startsAt` with an offset and
nanoseconds; pager once dropped the offset and read the wall time in the
host's zone. Every case runs under several `TZ` settings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pager.ingest.payloads import PayloadError, parse_alertmanager

ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe"]


@pytest.fixture(params=ZONES)
def host_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def _body(starts_at: str, ends_at: str = "0001-01-01T00:00:00Z") -> bytes:
    alert = {"status": "firing", "labels": {"alertname": "X"}, "fingerprint": "f1"}
    alert |= {"startsAt": starts_at, "endsAt": ends_at}
    payload = {"version": "4", "status": "firing", "groupKey": "{}:{}", "alerts": [alert]}
    return json.dumps(payload).encode()


def _utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T22:35:52.180035357+01:00", _utc(2026, 12, 1, 21, 35, 52, 180035)),
        ("2024-05-01T05:00:00.5-05:00", _utc(2024, 5, 1, 10, 0, 0, 500000)),
        ("2024-05-01T05:00:00Z", _utc(2024, 5, 1, 5)),
        ("2024-05-01T05:00:00+05:45", _utc(2024, 4, 30, 23, 15)),
        ("2024-05-01T05:00:00.999999999Z", _utc(2024, 5, 1, 5, 0, 0, 999999)),  # truncated
        ("2024-05-01T05:00:00.1234567890123-00:30", _utc(2024, 5, 1, 5, 30, 0, 123456)),
        ("2026-03-29T01:30:00+00:00", _utc(2026, 3, 29, 1, 30)),  # a London gap is no gap here
        ("0001-01-01T00:00:00Z", None),  # Go's zero time: none
        ("0001-01-01T00:00:00.000Z", None),
        ("0001-01-01T01:00:00+01:00", None),  # the same instant
    ],
)
def test_rfc3339_in_full(host_zone: str, text: str, expected: datetime | None) -> None:
    (alert,) = parse_alertmanager(_body(text, ends_at=text))
    assert alert.starts_at == expected
    assert alert.ends_at == expected
    assert expected is None or alert.starts_at.tzinfo is UTC  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0001-01-01T00:00:00+14:00", "out of range once converted to UTC"),
        ("9999-12-31T23:59:59-14:00", "out of range once converted to UTC"),
        ("2024-05-01", "not an RFC 3339 time"),
        ("2024-05-01T05:00:00", "not an RFC 3339 time"),  # no offset: whose wall clock?
        ("2024-05-01T05:00Z", "not an RFC 3339 time"),
        ("2024-05-01 05:00:00Z", "not an RFC 3339 time"),
        ("1700000000", "not an RFC 3339 time"),
        ("2024-05-01T05:00:00+0100", "not an RFC 3339 time"),
        ("2024-13-01T05:00:00Z", "alerts.0.startsAt"),
        ("2024-05-01T24:00:00Z", "alerts.0.startsAt"),
        ("2024-05-01T05:00:00+24:00", "alerts.0.startsAt"),
    ],
)
def test_a_time_that_is_not_one_is_named(host_zone: str, text: str, fragment: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alertmanager(_body(text))
    assert str(caught.value).startswith("alerts.0.startsAt: ")
    assert fragment in str(caught.value)
