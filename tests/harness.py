"""The scenario harness: the real app on a real database, a FakeClock, a fake
notifier, and `fast_forward()` that runs the engine until it is idle.

    h = await harness(POLICY)
    incident = await h.fire("alertname=Down", "severity=critical")
    h.notifier.expect("alice", "sms", "Down")
    await h.fast_forward(minutes=5)
    h.notifier.expect("bob", "sms", "Down")
    h.notifier.assert_no_more()

The fixtures that start a harness run the same check when the test ends
(`check_fakes`), as GoAlert's harness does when it closes: a test that forgets
`assert_no_more()` is still checked, and a failure there fails the test.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest
from aiohttp.test_utils import TestClient

from pager.clock import FakeClock
from pager.services import PAGER, Pager
from tests.fakes.fake_notifier import FakeNotifier

WEBHOOK_TOKEN = "hook-token"
API_TOKEN = "api-token"
# Whether the test's own body failed (set by tests/conftest.py's report hook).
CALL_FAILED = pytest.StashKey[bool]()


class Expecting(Protocol):
    """A fake that knows what was expected of it: FakeNotifier, FakeTwilio."""

    def check_at_teardown(self) -> None: ...


def check_fakes(request: pytest.FixtureRequest, fakes: Iterable[Expecting]) -> None:
    """The teardown check of every harness: no fake holds a message the test did not
    expect. Skipped when the test itself already failed (one failure, not two)."""
    if request.node.stash.get(CALL_FAILED, False):
        return
    problems = []
    for fake in {id(f): f for f in fakes}.values():  # a restarted harness shares its fake
        try:
            fake.check_at_teardown()
        except AssertionError as exc:
            problems.append(str(exc))
    if problems:
        raise AssertionError(
            "at teardown (expect them, or allow_more(reason)): " + "\n".join(problems)
        )


class Harness:
    def __init__(
        self, client: TestClient[Any, Any], clock: FakeClock, notifier: FakeNotifier
    ) -> None:
        self.client, self.clock, self.notifier = client, clock, notifier

    @property
    def pager(self) -> Pager:
        pager: Pager = self.client.app[PAGER]
        return pager

    async def fast_forward(self, delta: timedelta | None = None, **kwargs: float) -> None:
        """Move the clock, stopping at every due action on the way, as time would."""
        target = self.clock.now() + (delta or timedelta(**kwargs))
        for _ in range(10_000):
            await self.tick()
            due = await self.pager.engine.next_due()
            if due is None or due > target:
                break
            if due > self.clock.now():
                self.clock.set(due)
        else:
            raise AssertionError("engine never went idle")
        self.clock.set(target)
        await self.tick()

    async def tick(self) -> None:
        """One engine pass, and the sends and lookups it started."""
        await self.pager.engine.tick()
        await self.pager.engine.drain()

    async def escalate_only(self) -> int:
        """The escalation step alone, its pages left pending for the sender: on
        SQLite the step claims them in its own transaction (Sender.claim_within),
        which tests of the sender's own claim do without."""
        escalator = self.pager.engine.escalator
        ahead, escalator.claim_ahead = escalator.claim_ahead, None
        try:
            return await escalator.run(self.clock.now())
        finally:
            escalator.claim_ahead = ahead

    async def settle(self) -> None:
        await self.fast_forward(timedelta(0))

    async def fire(
        self,
        *labels: str,
        summary: str = "it broke",
        group: str | None = None,
        status: str = "firing",
        fingerprint: str | None = None,
        annotations: dict[str, str] | None = None,
    ) -> int:
        """Post one Alertmanager alert; returns the incident id it went to."""
        label_map = dict(label.split("=", 1) for label in labels)
        alert = {
            "status": status,
            "labels": label_map,
            "annotations": {"summary": summary, **(annotations or {})},
            "startsAt": "2026-01-05T09:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": fingerprint or _fingerprint(label_map),
        }
        body = {
            "version": "4",
            "status": status,
            "receiver": "pager",
            "alerts": [alert],
            "groupKey": group or f'{{}}:{{alertname="{label_map.get("alertname")}"}}',
            "groupLabels": {},
            "commonLabels": label_map,
            "commonAnnotations": {},
            "externalURL": "http://am",
            "truncatedAlerts": 0,
        }
        response = await self.post("/api/v1/alerts/alertmanager", body, token=WEBHOOK_TOKEN)
        assert response["incidents"], response
        return int(response["incidents"][0])

    async def post(
        self, path: str, body: Any = None, token: str = API_TOKEN, status: int = 200
    ) -> Any:
        resp = await self.client.post(
            path, data=json.dumps(body or {}), headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status == status, await resp.text()
        return await resp.json()

    async def get(self, path: str, status: int = 200) -> Any:
        resp = await self.client.get(path, headers={"Authorization": f"Bearer {API_TOKEN}"})
        assert resp.status == status, await resp.text()
        return await resp.json()

    async def incident(self, incident_id: int) -> Any:
        return await self.get(f"/api/v1/incidents/{incident_id}")

    async def events(self, incident_id: int) -> list[str]:
        return [e["kind"] for e in (await self.incident(incident_id))["timeline"]]

    async def via(self, incident_id: int, kind: str) -> list[str]:
        """Where each timeline event of this kind came from (its `via`)."""
        timeline = (await self.incident(incident_id))["timeline"]
        return [e["detail"]["via"] for e in timeline if e["kind"] == kind]


def _fingerprint(labels: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[:16]


def write_policy(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.yaml"):
        old.unlink()
    (directory / "policy.yaml").write_text(text)
    return directory
