"""Heartbeat pings inside a webhook: an Alertmanager alert that a rule with
`heartbeat:` matches is a ping, never an incident.

Only *firing* ones ping: a resolved Watchdog means the pipeline stopped
sending, which the watcher notices when the heartbeat's period runs out. A
ping ends the heartbeat's silence: the incident opened for it resolves.
`take_pings` runs inside the webhook's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.alert import AlertIn
from pager.core.heartbeat import rule_heartbeat_name
from pager.engine.policy_runtime import Active
from pager.store.alert_batch import Classified
from pager.store.heartbeats import record_ping


@dataclass
class Pings:
    rest: list[AlertIn] = field(default_factory=list)  # not heartbeats: ordinary alerts
    names: list[str] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)


async def take_pings(
    session: AsyncSession,
    active: Active,
    alerts: Sequence[AlertIn],
    now: datetime,
    classified: Classified | None = None,
) -> Pings:
    """Record the heartbeat alerts among `alerts` as pings; the rest are left to record."""
    classify, pings = classified or Classified(), Pings()
    for alert in alerts:
        c = classify(active.classifier.classify, alert.labels)
        if c.heartbeat is None or c.rule_index is None:
            pings.rest.append(alert)
            continue
        if alert.status != "firing":
            continue
        name = rule_heartbeat_name(c.rule_index, active.policy.rules[c.rule_index])
        resolved = await record_ping(session, name, now)
        pings.names.append(name)
        if resolved is not None:
            pings.resolved.append(resolved)
    return pings
