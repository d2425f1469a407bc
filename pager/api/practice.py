"""The incident practice around paging: severity definitions, explain, status
updates, drills and reviews (maintenance windows: pager.api.maintenance)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Annotated, Any

from aiohttp import web
from pydantic import Field

from pager.api.incidents import found, incident_id
from pager.api.views import drill_outcome
from pager.core.drills import DEFAULT_WAIT, MAX_WAIT, DrillOutcome
from pager.core.explain import explain as explain_labels
from pager.core.explain import rules_for
from pager.core.oncall import level_report
from pager.http import ApiError, admin, json_response
from pager.inputs import Body, Name, PersonRef, Required, Text, body, via_of
from pager.policy.durations import format_duration
from pager.practice.drills import DrillError, start_drill
from pager.practice.review import render_review
from pager.practice.updates import post_update
from pager.practice.written import mark_held
from pager.services import Pager
from pager.store import actions as action_store
from pager.store import incidents as store
from pager.store import maintenance
from pager.store import overrides as override_store
from pager.store.models import Incident


class ExplainIn(Body):
    labels: dict[str, str]


class UpdateIn(Body):
    text: Required
    by: PersonRef | None = None


class ReviewIn(Body):
    notes: Text = ""
    by: PersonRef | None = None


class DrillIn(Body):
    priority: Name | None = None
    policy: Name | None = None
    rotation: Name | None = None
    by: PersonRef | None = None
    wait: Annotated[float, Field(ge=1, le=MAX_WAIT.total_seconds())] = (
        DEFAULT_WAIT.total_seconds()
    )  # seconds the drill waits for its answer before it ends unanswered


async def _overrides(pager: Pager) -> Any:
    async with pager.db.read() as session:
        return override_store.by_rotation(await override_store.list_overrides(session))


async def priorities(request: web.Request) -> web.Response:
    """Each priority: what it means, what leads to it, how and who it pages now."""
    pager = admin(request)
    policy = pager.policies.active.policy
    now = pager.clock.now()
    reach = {e.escalation: e for e in level_report(policy, now, await _overrides(pager))}
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


async def explain(request: web.Request) -> web.Response:
    """Which rule a label set matches and whom it would page now. No side effect."""
    pager = admin(request)
    labels = (await body(request, ExplainIn)).labels
    active = pager.policies.active
    now = pager.clock.now()
    result = explain_labels(active.policy, active.classifier, labels, now, await _overrides(pager))
    async with pager.db.read() as session:
        window = (await maintenance.active_suppressor(session, now))(labels)
    return json_response(
        {**asdict(result), "labels": labels, "maintenance_window": window.id if window else None}
    )


async def post_status_update(request: web.Request) -> web.Response:
    pager = admin(request)
    number = incident_id(request)
    update = await body(request, UpdateIn, pager.policies.active.policy)
    try:
        await post_update(pager, number, update.by, update.text, via_of(request))
    except store.IncidentNotFound as exc:
        raise ApiError(404, str(exc)) from None
    return json_response({"status": "posted", "id": number}, status=201)


async def review(request: web.Request) -> web.Response:
    pager = admin(request)
    number = incident_id(request)
    async with pager.db.read() as session:
        record = await found(store.incident_record(session, number))
        items = await action_store.list_items(session, incident_id=number)
    markdown = render_review(record.incident, record.events, record.notifications, items)
    return web.Response(text=markdown, content_type="text/markdown", charset="utf-8")


async def mark_reviewed(request: web.Request) -> web.Response:
    """The team held the review: stops the 7-day reminder."""
    pager = admin(request)
    number = incident_id(request)
    review = await body(request, ReviewIn, pager.policies.active.policy)
    try:
        await mark_held(pager, number, review.by, pager.clock.now(), review.notes)
    except store.IncidentNotFound as exc:
        raise ApiError(404, str(exc)) from None
    return json_response({"status": "reviewed", "id": number})


async def create_drill(request: web.Request) -> web.Response:
    pager = admin(request)
    d = await body(request, DrillIn, pager.policies.active.policy)
    wait = timedelta(seconds=d.wait)
    try:
        number = await start_drill(pager, d.priority, d.policy, d.rotation, d.by, wait)
    except DrillError as exc:
        raise ApiError(400, str(exc)) from None
    return json_response({"status": "started", "id": number}, status=201)


async def list_drills(request: web.Request) -> web.Response:
    """Each drill and what happened: still running, complete (who answered, how
    fast) or unanswered, and whom its pages reached."""
    pager = admin(request)
    async with pager.db.read() as session:
        found = await store.list_incidents(session, store.IncidentQuery(drill=True))
        reached = await store.reached_people(session, [i.id for i in found])
    return json_response({"drills": [_drill_view(i, reached.get(i.id, ())) for i in found]})


def _drill_view(i: Incident, reached: tuple[str, ...]) -> dict[str, Any]:
    answered = i.acked_at if i.drill_outcome == DrillOutcome.COMPLETE else None
    return {
        "id": i.id,
        "priority": i.priority,
        "state": i.state,
        "outcome": drill_outcome(i),
        "created_at": i.created_at,
        "ends_at": i.drill_ends_at,
        "ended_at": i.resolved_at,
        "acked_at": i.acked_at,
        "acked_by": i.acked_by,
        "time_to_ack_seconds": (answered - i.created_at).total_seconds() if answered else None,
        "reached": list(reached),
    }
