"""The Review page (`/incidents/{id}/review`) and Reviews (`/reviews`).

One incident's review: its figures (time to acknowledge, to resolve), the
timeline with the time since opening and how long each step lasted, who was
paged and how, the blameless template written as versions (each with its
author; older ones viewable), "review held" with its date, and its action
items (added here). Reviews lists the overdue ones first: P1 incidents
resolved more than 7 days ago whose review was never held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from pager.core.vocabulary import NotificationKind
from pager.practice.reminders import REVIEW_AFTER, refresh_gauge
from pager.practice.review import render_review
from pager.practice.written import SECTIONS, add_action_item, mark_held, save_written
from pager.services import pager_of
from pager.store import action_items as action_store
from pager.store import reviews
from pager.store.incidents import IncidentNotFound
from pager.store.models import ReviewVersion
from pager.web.acting import redirect
from pager.web.auth import ConsoleError, Identity, Viewer
from pager.web.guard import Form, form, page
from pager.web.incident import incident_id, load
from pager.web.render import render
from pager.web.timeline import describe
from pager.web.views import name_of, paged_people

RECENT = timedelta(days=30)


@dataclass(frozen=True)
class Step:
    at: datetime
    since_open: timedelta
    lasted: timedelta | None  # until the next event
    text: str


def steps(opened: datetime, events: list[tuple[datetime, str]]) -> list[Step]:
    """Timeline entries with their time since the incident opened and their duration."""
    out = []
    for n, (at, text) in enumerate(events):
        lasted = events[n + 1][0] - at if n + 1 < len(events) else None
        out.append(Step(at, at - opened, lasted, text))
    return out


def day_start(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(zone))


def day_end(day: date, zone: str) -> datetime:
    """A deadline day's last second there, as `pager actions add --due` reads a date."""
    return datetime.combine(day, time(23, 59, 59), ZoneInfo(zone))


@page
async def review_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    return await render_review_page(request, identity, viewer, incident_id(request))


async def render_review_page(
    request: web.Request,
    identity: Identity,
    viewer: Viewer,
    ident: int,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    pager = pager_of(request)
    record = await load(request, ident)
    incident, now = record.incident, pager.clock.now()
    policy = await pager.policies.snapshot(incident.policy_version_id)
    async with pager.db.read() as session:
        items = await action_store.list_items(session, incident_id=ident)
        written = await reviews.versions(session, ident)
    shown = _chosen(written, request.query.get("version"))
    events = [(e.at, describe(e, lambda p: name_of(policy, p))) for e in record.events]
    pages = [n for n in record.notifications if n.kind == NotificationKind.PAGE]
    overdue = (
        incident.priority == "P1"
        and incident.reviewed_at is None
        and incident.resolved_at is not None
        and now - incident.resolved_at > REVIEW_AFTER
    )
    context = {
        "i": incident,
        "steps": steps(incident.created_at, events),
        "paged": paged_people(policy, pages),
        "items": items,
        "sections": SECTIONS,
        "written": written,
        "shown": shown,
        "latest": written[0] if written else None,
        "overdue": overdue,
        "owners": [(p.id, name_of(policy, p.id)) for p in pager.policies.active.policy.people],
        "today": now.astimezone(ZoneInfo(viewer.person.timezone)).date(),
        "markdown": render_review(incident, record.events, record.notifications, items),
        "errors": errors or {},
    }
    return render(request, "review.html", context, identity, status=status)


def _chosen(written: Sequence[ReviewVersion], raw: str | None) -> ReviewVersion | None:
    """The version asked for (`?version=2`), else the newest."""
    if raw and raw.isdigit():
        return next((v for v in written if v.version == int(raw)), None)
    return written[0] if written else None


@form
async def save(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    ident = incident_id(request)
    sections = {key: data.get(key, "") for key, _, _ in SECTIONS}
    if not any(v.strip() for v in sections.values()):
        errors = {"written": "Write at least one section before saving."}
        return await render_review_page(request, identity, viewer, ident, errors, 400)
    try:
        row = await save_written(pager_of(request), ident, viewer.person.id, sections)
    except IncidentNotFound:
        raise ConsoleError(404, f"There is no incident #{ident}.", "No such incident") from None
    return redirect(request, f"/incidents/{ident}/review", f"Saved version {row.version}.")


@form
async def held(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    ident = incident_id(request)
    try:
        day = date.fromisoformat(data.get("held_on", ""))
    except ValueError:
        errors = {"held": "Give the day the review was held, like 2026-01-31."}
        return await render_review_page(request, identity, viewer, ident, errors, 400)
    if day > pager_of(request).clock.now().astimezone(ZoneInfo(viewer.person.timezone)).date():
        errors = {"held": "A review cannot have been held on a day still to come."}
        return await render_review_page(request, identity, viewer, ident, errors, 400)
    at = day_start(day, viewer.person.timezone)
    try:
        await mark_held(pager_of(request), ident, viewer.person.id, at, data.get("notes", ""))
    except IncidentNotFound:
        raise ConsoleError(404, f"There is no incident #{ident}.", "No such incident") from None
    return redirect(
        request, f"/incidents/{ident}/review", f"Review of #{ident} marked held on {day}."
    )


@form
async def add_item(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    pager = pager_of(request)
    ident = incident_id(request)
    title = (data.get("title") or "").strip()[:500]
    owner = data.get("owner", "")
    problem = None
    try:
        due = day_end(date.fromisoformat(data.get("due", "")), viewer.person.timezone)
    except ValueError:
        problem = "Give a deadline, like 2026-02-01."
    if pager.policies.active.policy.person_by_id(owner) is None:
        problem = "Choose the item's owner."
    if not title:
        problem = "Say what is to be done."
    if problem is not None:
        return await render_review_page(request, identity, viewer, ident, {"item": problem}, 400)
    try:
        item = await add_action_item(pager, ident, title, owner, due, viewer.person.id)
    except IncidentNotFound:
        raise ConsoleError(404, f"There is no incident #{ident}.", "No such incident") from None
    await refresh_gauge(pager)
    who = name_of(pager.policies.active.policy, owner)
    return redirect(
        request, f"/incidents/{ident}/review", f"Action item {item.id} added for {who}."
    )


@page
async def reviews_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    pager = pager_of(request)
    now = pager.clock.now()
    async with pager.db.read() as session:
        overdue = await reviews.overdue_reviews(session, now - REVIEW_AFTER)
        waiting = await reviews.unreviewed(session, now - RECENT)
        held_ = await reviews.held_recently(session, now - RECENT)
    late = {i.id for i in overdue}
    context = {
        "section": "reviews",
        "overdue": overdue,
        "waiting": [i for i in waiting if i.id not in late],
        "held": held_,
        "recent_days": RECENT.days,
    }
    return render(request, "reviews.html", context, identity)
