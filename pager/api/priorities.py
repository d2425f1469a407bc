"""`GET /api/v1/priorities`: each priority's definition, what leads to it, and
how and whom it pages now."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pager.core.explain import rules_for
from pager.core.oncall import level_report
from pager.edge import admin, json_response
from pager.oncall import database_overrides
from pager.policy.durations import format_duration


async def priorities(request: web.Request) -> web.Response:
    """Each priority: what it means, what leads to it, how and who it pages now."""
    pager = admin(request)
    policy = pager.policies.active.policy
    now = pager.clock.now()
    reach = {e.escalation: e for e in level_report(policy, now, await database_overrides(pager))}
    out = []
    for name, prio in sorted(policy.priorities.items()):
        rules = rules_for(policy, name)
        escalations = sorted(
            {r.escalation for r in policy.rules if r.priority == name and r.escalation}
            | (
                {policy.default.escalation}
                if policy.default and policy.default.priority == name
                else set()
            )
        )
        out.append(
            {
                "priority": name,
                "description": prio.description,
                "rules": rules,
                "channels": list(prio.channels),
                "hours": prio.hours
                if prio.hours == "always"
                else prio.hours.model_dump(by_alias=True),
                "ack_expires": format_duration(prio.ack_expires) if prio.ack_expires else None,
                "upgrade": (
                    {"to": prio.upgrade_to, "after": format_duration(prio.upgrade_after)}
                    if prio.upgrade_to and prio.upgrade_after
                    else None
                ),
                "stakeholders": list(prio.stakeholders),
                "escalations": [_escalation_view(policy, e, reach.get(e)) for e in escalations],
            }
        )
    return json_response({"priorities": out})


def _escalation_view(policy: Any, ident: str, report: Any) -> dict[str, Any]:
    spec = policy.escalation(ident)
    return {
        "escalation": ident,
        "repeat": spec.repeat,
        "levels": [
            {
                "level": n,
                "targets": list(level.targets),
                "ack_timeout": format_duration(level.ack_timeout) if level.ack_timeout else None,
                "reaches_now": list(report.levels[n - 1].people) if report else [],
            }
            for n, level in enumerate(spec.levels, start=1)
        ],
    }
