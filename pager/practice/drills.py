"""Game days: a synthetic incident that pages for real, marked DRILL everywhere.

A drill runs the chosen priority and escalation policy (or just one rotation)
through the same engine as a real incident, so it proves the whole path: the
rotation, the notifier, the phones, the people. It is kept apart from real
incidents in metrics (no MTTA/MTTR, not counted as opened or open) and in the
incident list it is flagged `drill`.

A drill ends when it has its answer (acknowledged or resolved: resolved as
"drill complete") or at its deadline, `wait` after it started (resolved as
"drill ended unanswered"); see pager.core.drills.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from pager.core import page_text
from pager.core.alert import AlertIn
from pager.core.classify import Classification
from pager.core.drills import DEFAULT_WAIT
from pager.policy.model import EscalationPolicy, Level, Policy
from pager.services import Pager
from pager.store.incidents import IngestContext, record_alerts
from pager.store.models import Incident


class DrillError(ValueError):
    """The drill asked for something the policy does not have."""


async def start_drill(
    pager: Pager,
    priority: str | None,
    escalation: str | None,
    rotation: str | None,
    by: str | None,
    wait: timedelta = DEFAULT_WAIT,
) -> int:
    active = pager.policies.active
    policy = active.policy
    priority = priority or ("P1" if "P1" in policy.priorities else min(policy.priorities))
    if priority not in policy.priorities:
        raise DrillError(f"no priority {priority!r} in the policy")
    version_id = active.version_id
    if rotation is not None:
        policy = _rotation_only(policy, rotation)
        escalation = policy.escalation_policies[-1].id
        version_id = await pager.policies.store_version(policy)
    escalation = escalation or (policy.default.escalation if policy.default else None)
    if escalation not in {e.id for e in policy.escalation_policies}:
        raise DrillError(f"no escalation policy {escalation!r} in the policy")
    token = uuid.uuid4().hex[:12]
    alert = AlertIn(
        fingerprint=f"drill-{token}",
        status="firing",
        labels={
            "alertname": "Drill",
            "drill": "true",
            **({"rotation": rotation} if rotation else {}),
        },
        annotations={
            "summary": page_text.drill_summary(by),
        },
        group_key=f"drill:{token}",
        source="drill",
    )
    ctx = IngestContext(
        classify=lambda _labels: Classification(None, priority, str(escalation)),
        policy_version_id=version_id,
        drill=True,
    )
    now = pager.clock.now()
    async with pager.db.write() as session:
        result = await record_alerts(session, [alert], ctx, now)
        incident = await session.get(Incident, result.opened[0])
        if incident is not None:
            incident.drill_ends_at = now + wait
    pager.metrics.alerts_received.labels("drill", "firing").inc()
    pager.engine.wake()
    return result.opened[0]


def _rotation_only(policy: Policy, rotation: str) -> Policy:
    """The policy with one more escalation policy, last: just that rotation."""
    if rotation not in {r.id for r in policy.rotations}:
        raise DrillError(f"no rotation {rotation!r} in the policy")
    extra = EscalationPolicy(
        id=f"drill-{rotation}", levels=(Level(targets=(f"rotation:{rotation}",)),)
    )
    return policy.model_copy(update={"escalation_policies": (*policy.escalation_policies, extra)})
