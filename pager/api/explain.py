"""`POST /api/v1/explain`: which rule a label set matches and whom it would
page now. It changes nothing."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from pager.core.explain import explain as explain_labels
from pager.edge import admin, json_response
from pager.inputs import Body, body
from pager.oncall import database_overrides
from pager.store import maintenance


class ExplainIn(Body):
    labels: dict[str, str]


async def explain(request: web.Request) -> web.Response:
    """Which rule a label set matches and whom it would page now. No side effect."""
    pager = admin(request)
    labels = (await body(request, ExplainIn)).labels
    active = pager.policies.active
    now = pager.clock.now()
    overrides = await database_overrides(pager)
    result = explain_labels(active.policy, active.classifier, labels, now, overrides)
    async with pager.db.read() as session:
        window = (await maintenance.active_suppressor(session, now))(labels)
    return json_response(
        {**asdict(result), "labels": labels, "maintenance_window": window.id if window else None}
    )
