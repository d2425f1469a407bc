"""One bad incident stops nothing (issue 12, cause 4).

Before, the escalator decided a batch of incidents in one transaction, in the
same order every tick, after the heartbeat step: one that raised blocked every
incident forever. Now each incident is decided in its own savepoint; one that
fails is logged, counted, marked on its timeline and retried with backoff, and
a failing heartbeat step does not stop escalation or sending in the same tick.

The bad values are put in directly (a stored policy version, an installed
policy), not through `pager check`, which may well refuse them: the engine must
survive them whatever let them in.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from pager.policy.model import Heartbeat
from pager.store.models import Incident
from pager.store.policies import save_version
from tests.harness import Harness
from tests.scenario.policies import BASE

CRITICAL = ("alertname=ApiDown", "severity=critical", "service=api")
OTHER = ("alertname=Other", "severity=critical", "service=web")
POSTGRES_ONLY = pytest.mark.parametrize(
    "db_kind", [pytest.param("postgres", marks=pytest.mark.postgres)]
)  # SQLite does not enforce column lengths: there the values are simply stored
LONG = "x" * 129  # one more than the columns hold


async def give_bad_policy(h: Harness, incident: int, change: Callable[[Any], Any]) -> None:
    """The incident runs a stored policy version changed by `change`."""
    body = h.pager.policies.active.policy.model_dump(mode="json", by_alias=True)
    bad = change(json.loads(json.dumps(body)))
    async with h.pager.db.write() as session:
        version = await save_version(session, bad, h.clock.now())
        await session.execute(
            update(Incident).where(Incident.id == incident).values(policy_version_id=version)
        )


def overflowing_ack_timeout(body: Any) -> Any:
    body["escalation_policies"][0]["levels"][0]["ack_timeout"] = "500000w"  # ~9,600 years
    return body


def metric(h: Harness, name: str, **labels: str) -> float:
    value = h.pager.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_an_incident_that_cannot_be_decided_stops_no_other(make_harness):
    h = await make_harness(BASE)
    bad = await h.fire(*CRITICAL)
    good = await h.fire(*OTHER)
    await give_bad_policy(h, bad, overflowing_ack_timeout)

    await h.settle()

    h.notifier.expect("alice", "sms", f"#{good}")
    h.notifier.assert_no_more()
    assert metric(h, "pager_incident_step_errors_total") == 1
    failed = [e for e in (await h.incident(bad))["timeline"] if e["kind"] == "step_failed"]
    assert len(failed) == 1
    assert (
        "OverflowError" in failed[0]["detail"]["error"] or "Error" in failed[0]["detail"]["error"]
    )
    assert failed[0]["detail"]["retry_at"] == (h.clock.now() + timedelta(seconds=10)).isoformat()

    await h.fast_forward(minutes=1)  # retried at 10 s and 30 s, backing off; good goes on
    h.notifier.expect("alice", "voice")  # good's call at 1m
    h.notifier.assert_no_more()
    assert metric(h, "pager_incident_step_errors_total") == 3
    assert (await h.incident(bad))["state"] == "triggered"


@POSTGRES_ONLY
async def test_a_person_id_longer_than_its_column_fails_only_its_incident(make_harness):
    h = await make_harness(BASE)
    bad = await h.fire(*CRITICAL)
    good = await h.fire(*OTHER)
    await give_bad_policy(
        h, bad, lambda body: json.loads(json.dumps(body).replace('"alice"', f'"{LONG}"'))
    )

    await h.settle()

    h.notifier.expect("alice", "sms", f"#{good}")
    h.notifier.assert_no_more()
    assert "step_failed" in await h.events(bad)
    assert metric(h, "pager_incident_step_errors_total") == 1


@POSTGRES_ONLY
async def test_a_failing_heartbeat_stops_neither_escalation_nor_sending(make_harness):
    """A heartbeat whose name its column cannot hold goes missing: raising it fails
    at every try, and in that same tick alice's call still goes out."""
    h = await make_harness(BASE)
    runtime = h.pager.policies
    beat = Heartbeat.model_construct(
        name=LONG, expect_every=timedelta(minutes=1), priority="P1", escalation="platform"
    )
    policy = runtime.active.policy.model_copy(update={"heartbeats": (beat,)})
    runtime._active = dataclasses.replace(runtime.active, policy=policy)  # as a reload would
    h.pager.engine.heartbeats.declare(h.clock.now())
    incident = await h.fire(*CRITICAL)
    await h.settle()
    h.notifier.expect("alice", "sms", f"#{incident}")

    await h.fast_forward(minutes=1)  # the heartbeat is missing; alice's call is due

    h.notifier.expect("alice", "voice")
    h.notifier.assert_no_more()
    assert metric(h, "pager_engine_step_errors_total", step="heartbeats") >= 1
    await h.fast_forward(minutes=4)
    h.notifier.expect("bob", "sms", f"#{incident}")  # level 2 in its time
    h.notifier.assert_no_more()
