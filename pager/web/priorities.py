"""Priorities (`/priorities`): what each priority means and promises, whom it
pages right now, and an "explain" form: labels in, the matching rule out,
with the people each level would page now, or that the page would be held
until the priority's hours begin, or recorded only in a maintenance window.
The same pure core as `pager priorities` and `pager explain` (no side effect).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from pager.core.explain import Explanation, describe_hours, explain, rules_for
from pager.core.oncall import EscalationReport, level_report
from pager.oncall import database_overrides
from pager.policy.model import PriorityDef
from pager.services import pager_of
from pager.store.maintenance import active_suppressor
from pager.store.models import MaintenanceWindow
from pager.web.auth import Identity, Viewer
from pager.web.guard import page
from pager.web.render import render
from pager.web.views import priority_rank

LABELS_MAX = 50


@dataclass(frozen=True)
class Priority:
    name: str
    spec: PriorityDef
    hours: str
    rules: list[str]
    escalations: list[EscalationReport]


def read_labels(text: str) -> tuple[dict[str, str], list[str]]:
    """`name=value` a line (or comma-separated); returns the labels and what was not read."""
    labels: dict[str, str] = {}
    problems = []
    for part in text.replace(",", "\n").splitlines()[:LABELS_MAX]:
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            problems.append(f"{part!r} is not name=value")
            continue
        labels[name.strip()] = value.strip().strip('"')
    return labels, problems


@page
async def priorities_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    pager = pager_of(request)
    active = pager.policies.active
    policy, now = active.policy, pager.clock.now()
    overrides = await database_overrides(pager)
    reach = {e.escalation: e for e in level_report(policy, now, overrides)}
    shown = []
    for name in sorted(policy.priorities, key=priority_rank):
        spec = policy.priorities[name]
        used = {r.escalation for r in policy.rules if r.priority == name and r.escalation}
        if policy.default and policy.default.priority == name:
            used.add(policy.default.escalation)
        shown.append(
            Priority(
                name,
                spec,
                describe_hours(spec.hours),
                rules_for(policy, name),
                [reach[e] for e in sorted(used) if e in reach],
            )
        )
    typed = request.query.get("labels", "")
    answer: Explanation | None = None
    window: MaintenanceWindow | None = None
    labels, problems = read_labels(typed)
    if labels:
        answer = explain(policy, active.classifier, labels, now, overrides)
        async with pager.db.read() as session:
            window = (await active_suppressor(session, now))(labels)
    context = {
        "section": "priorities",
        "priorities": shown,
        "typed": typed,
        "labels": labels,
        "problems": problems,
        "answer": answer,
        "window": window,
        "timeouts": {e.id: [lv.ack_timeout for lv in e.levels] for e in policy.escalation_policies},
    }
    return render(request, "priorities.html", context, identity)
