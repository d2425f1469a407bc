"""A new P1 in the middle of the storm (issue 14): how long from its webhook's
2xx until the first message that carries it reaches the fake Twilio.

The alert (`BenchNewP1`, severity critical) goes to the example policy's P1
on-call, whom the storm has already throttled, so its page is folded into a
bundle; the bundle must leave within the policy's `bundle_window` (2m in the
example). Which message carries it is read from the database: a page of its
incident, or a bundle that lists it (`bundle_of`), matched to the recorder's
arrival times by notification id.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from bench import procs, readback
from bench.load import Client, am_payload

BUNDLE_WINDOW = 120.0  # s, the example policy's throttle.bundle_window
TARGET = BUNDLE_WINDOW + 10.0  # the window, plus the engine's tick and a send
GIVE_UP = BUNDLE_WINDOW + 60.0


@dataclass
class NewP1:
    incident: int
    answered: float  # wall clock of the 2xx
    paged: float | None = None  # wall clock the first message carrying it arrived
    how: str = "not paged"  # "page", or "bundle of N (named / not named by title)"

    @property
    def seconds(self) -> float:
        return float("nan") if self.paged is None else self.paged - self.answered


async def fire(port: int, after: float) -> NewP1 | None:
    """Post the new P1 `after` seconds from now, again every second while it is
    refused (as Alertmanager retries a 503); None when never taken in GIVE_UP."""
    await asyncio.sleep(after)
    labels = {"alertname": "BenchNewP1", "severity": "critical", "service": "checkout"}
    alert = {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": "checkout is down, mid-storm"},
        "startsAt": "2026-01-05T09:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "b3e1f00d5a1e0001",
    }
    body = am_payload('{}:{alertname="BenchNewP1"}', [alert], "firing")
    deadline = time.time() + GIVE_UP
    while time.time() < deadline:
        client = Client(port)
        try:
            status, answer = await client.post(body)
        except (OSError, asyncio.IncompleteReadError):  # refused or cut: try again
            status, answer = 0, b""
        finally:
            await client.close()
        incidents = json.loads(answer).get("incidents", []) if 200 <= status < 300 else []
        if incidents:
            return NewP1(int(incidents[0]), time.time())
        if 200 <= status < 300:
            return None  # taken, but no incident (the baseline server)
        await asyncio.sleep(1.0)
    return None


async def wait_for_page(p1: NewP1, url: str, recorder: str) -> NewP1:
    """Poll until a message carrying the P1 was recorded, or GIVE_UP passed."""
    while time.time() < p1.answered + GIVE_UP:
        carriers = await _carriers(url, p1.incident)
        found = [r for r in await procs.records(recorder) if r["n"] in carriers]
        if found:
            first = min(found, key=lambda r: float(r["t"]))
            p1.paged = float(first["t"])
            p1.how = _how(carriers[first["n"]], first, p1.incident)
            return p1
        await asyncio.sleep(1.0)
    return p1


async def _carriers(url: str, incident: int) -> dict[int, list[int] | None]:
    """Notification ids that carry the incident: its pages (None) and bundles (their list)."""
    rows = await readback.notifications(url, "id", "kind", "incident_id", "bundle_of")
    out: dict[int, list[int] | None] = {}
    for row in rows:
        listed = _list(row.bundle_of)
        if row.kind == "page" and row.incident_id == incident:
            out[row.id] = None
        elif row.kind == "bundle" and incident in listed:
            out[row.id] = listed
    return out


def _how(listed: list[int] | None, record: dict[str, Any], incident: int) -> str:
    if listed is None:
        return f"its own {record['kind']} page"
    if record["kind"] != "sms":
        return f"a {record['kind']} bundle of {len(listed)}"
    named = f"#{incident} BenchNewP1" in record["body"]
    return f"an SMS bundle of {len(listed)} ({'naming' if named else 'not naming'} it by title)"


def _list(value: Any) -> list[int]:
    if isinstance(value, str):
        value = json.loads(value)
    return [int(i) for i in value or []]
