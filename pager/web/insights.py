"""On-call health (`/health`): the figures of `pager report` for a period, with
charts drawn as SVG on the server (pager.web.charts; no chart script, so they
work without JavaScript and in screenshots), each beside its numbers."""

from __future__ import annotations

from aiohttp import web

from pager.insights import BadPeriod, report, since_of
from pager.services import pager_of
from pager.web.auth import Identity, Viewer
from pager.web.charts import bars, columns
from pager.web.guard import page
from pager.web.render import render
from pager.web.views import name_of

PERIODS = ("7d", "30d", "90d")
SHARE_SCALE = 20.0  # % of the period drawn as the longest bar, at least: 10-15 % is healthy


@page
async def health_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    pager = pager_of(request)
    now = pager.clock.now()
    chosen = request.query.get("since", "30d")
    problem = ""
    try:
        since = since_of(chosen, now)
    except BadPeriod as exc:
        problem, chosen, since = str(exc), "30d", since_of("30d", now)
    found = await report(pager, since, now)
    policy = pager.policies.active.policy
    people = [(name_of(policy, p.person), p) for p in found.people]
    context = {
        "section": "health",
        "r": found,
        "people": people,
        "chosen": chosen,
        "periods": PERIODS,
        "problem": problem,
        "weeks_chart": columns(
            [(f"{w.start.day} {w.start:%b}", w.incidents) for w in found.weeks],
            "Incidents per week",
        ),
        "pages_chart": bars(
            [(label, (p.pages - p.out_of_hours, p.out_of_hours)) for label, p in people],
            "Pages per person, in and out of their working hours",
            ("in hours", "out of hours"),
        ),
        "share_chart": bars(
            [(label, (round(100 * p.incident_share, 1),)) for label, p in people],
            "Time on incidents, % of the period",
            ("% of the period",),
            unit="%",
            floor=SHARE_SCALE,
        ),
    }
    return render(request, "health.html", context, identity)
