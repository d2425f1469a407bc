"""The Incidents page: every incident, filtered by state, priority, text and
time, newest first, a page at a time (the store's cursor: ids below the last
shown), with acknowledge/resolve of several at once.

Dates in the filter are days in the viewer's time zone: "from 5 Jan to 5 Jan"
is that whole day where they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from pager.core.vocabulary import IncidentState
from pager.services import pager_of
from pager.store import incidents as store
from pager.store import notifications
from pager.web.auth import Identity, Viewer
from pager.web.guard import page
from pager.web.render import render
from pager.web.views import Card, card, priority_rank

STATES = ("open", *IncidentState, "all")  # the filter's words: "open" is not yet resolved
PAGE = 50


@dataclass(frozen=True)
class Filters:
    state: str = "open"
    priorities: tuple[str, ...] = ()
    text: str = ""
    start: date | None = None  # from this day (viewer's zone)
    end: date | None = None  # to this day, inclusive
    before: int | None = None  # the cursor
    problems: tuple[str, ...] = ()  # what could not be read, for the page

    def query(self, zone: str) -> store.IncidentQuery:
        tz = ZoneInfo(zone)

        def day(d: date) -> datetime:
            return datetime.combine(d, time(0), tz)

        return store.IncidentQuery(
            state=None if self.state == "all" else self.state,
            priorities=self.priorities,
            text=self.text or None,
            since=day(self.start) if self.start else None,
            until=day(self.end + timedelta(days=1)) if self.end else None,
            before=self.before,
        )

    def link(self, **changes: object) -> str:
        """This list's URL (console path), with some filters changed."""
        values = {
            "state": self.state,
            "priority": list(self.priorities),
            "q": self.text,
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
            "before": self.before or "",
            **changes,
        }
        shown = {k: v for k, v in values.items() if v not in ("", None, [])}
        return "/incidents" + (f"?{urlencode(shown, doseq=True)}" if shown else "")


def read_filters(query: list[tuple[str, str]], known: set[str]) -> Filters:
    values: dict[str, list[str]] = {}
    for key, value in query:
        values.setdefault(key, []).append(value.strip())
    problems = []
    state = (values.get("state") or ["open"])[0]
    if state not in STATES:
        problems.append(f"Unknown state {state!r}: showing open incidents.")
        state = "open"
    wanted = tuple(sorted({p for p in values.get("priority", []) if p in known}, key=priority_rank))
    start, end = (_day(values, key, problems) for key in ("from", "to"))
    before = (values.get("before") or [""])[0]
    return Filters(
        state,
        wanted,
        (values.get("q") or [""])[0][:200],
        start,
        end,
        int(before) if before.isdigit() else None,
        tuple(problems),
    )


def _day(values: dict[str, list[str]], key: str, problems: list[str]) -> date | None:
    raw = (values.get(key) or [""])[0]
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"{raw!r} is not a date like 2026-01-31: ignored.")
        return None


@page
async def incidents_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    return await render_list(request, identity, viewer, request.rel_url.path_qs)


async def render_list(
    request: web.Request,
    identity: Identity,
    viewer: Viewer,
    here: str,
    errors: dict[int, str] | None = None,
    status: int = 200,
) -> web.Response:
    pager = pager_of(request)
    known = set(pager.policies.active.policy.priorities)
    filters = read_filters(parse_qsl(here.partition("?")[2]), known)
    cards, more = await _page(request, viewer, filters)
    context = {
        "section": "incidents",
        "cards": cards,
        "f": filters,
        "states": STATES,
        "priorities": sorted(known, key=priority_rank),
        "older": filters.link(before=cards[-1].incident.id) if more else None,
        "newest": filters.link(before="") if filters.before else None,
        "errors": errors or {},
        "list_here": filters.link(),
    }
    return render(request, "incidents.html", context, identity, status=status)


async def _page(request: web.Request, viewer: Viewer, filters: Filters) -> tuple[list[Card], bool]:
    pager = pager_of(request)
    async with pager.db.read() as session:
        found = await store.list_incidents(session, filters.query(viewer.person.timezone), PAGE + 1)
        shown = found[:PAGE]
        pages = await notifications.pages_of(session, [i.id for i in shown])
    now = pager.clock.now()
    cards = []
    for incident in shown:
        policy = await pager.policies.snapshot(incident.policy_version_id)
        cards.append(card(incident, policy, pages.get(incident.id, []), viewer.person.id, now))
    return cards, len(found) > PAGE
