"""Wiring the console into the app: templates, routes and its running parts.

`setup_console(app, settings)` is called by the app factory; `running()` is
entered once the Pager exists (it needs the database for the shared session
key). Nothing happens at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from pager.services import Pager
from pager.settings import Settings, reveal
from pager.store.secrets import shared_secret
from pager.web import (
    acting,
    action_items,
    calendar,
    drills,
    fmt,
    heartbeats,
    incident,
    incidents,
    insights,
    maintenance,
    my,
    now,
    override_forms,
    priorities,
    review,
    schedule,
    signin,
    stream,
)
from pager.web.assets import Assets
from pager.web.live import Broadcaster
from pager.web.metrics import WebMetrics
from pager.web.sessions import Sessions
from pager.web.state import ASSETS, CONSOLE, Console
from pager.web.views import priority_rank
from pager.web.webconfig import UserFile

SAFE_URL = re.compile(r"^https?://[^\s<>\"']+$")


def safe_url(value: Any) -> bool:
    """Only http(s) links are made clickable: an annotation can hold anything."""
    return isinstance(value, str) and bool(SAFE_URL.fullmatch(value))


def setup_console(app: web.Application, settings: Settings) -> None:
    assets = Assets()
    app[ASSETS] = assets
    prefix = settings.url_prefix

    def url(path: str, **query: Any) -> str:
        shown = {k: v for k, v in query.items() if v not in (None, "")}
        return prefix + path + (f"?{urlencode(shown, doseq=True)}" if shown else "")

    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("pager.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(
        url=url,
        static=lambda name: prefix + assets.url_path(name),
        local=fmt.local,
        day=fmt.day,
        seconds=fmt.seconds,
        duration=fmt.duration,
        rank=priority_rank,
        safe_url=safe_url,
        title="pager",
    )
    env.filters["fromiso"] = datetime.fromisoformat
    add_routes(app.router, assets)


def add_routes(r: web.UrlDispatcher, assets: Assets) -> None:
    r.add_get("/", now.now_page)
    r.add_get("/incidents", incidents.incidents_page)
    r.add_post("/incidents/bulk", acting.bulk)
    r.add_get("/incidents/{id}", incident.incident_page)
    for verb in acting.VERBS:
        r.add_post(f"/incidents/{{id}}/{verb}", acting.on_incident(verb))
    r.add_post("/incidents/{id}/updates", acting.status_update)
    r.add_get("/incidents/{id}/review", review.review_page)
    r.add_post("/incidents/{id}/review/versions", review.save)
    r.add_post("/incidents/{id}/review/held", review.held)
    r.add_post("/incidents/{id}/actions", review.add_item)
    r.add_get("/reviews", review.reviews_page)
    r.add_get("/actions", action_items.actions_page)
    r.add_post("/actions/{id}/close", action_items.close)
    r.add_post("/actions/{id}/reassign", action_items.reassign)
    r.add_get("/schedule", schedule.schedules)
    r.add_get("/schedule/{rotation}", schedule.schedule_page)
    r.add_post("/overrides", override_forms.add)
    r.add_post("/overrides/{id}/remove", override_forms.remove)
    r.add_get("/my", my.my_page)
    r.add_post("/my/calendar", calendar.new_link)
    r.add_get("/calendar/{token}/person.ics", calendar.person_feed)
    r.add_get("/calendar/{token}/rotation/{rotation}.ics", calendar.rotation_feed)
    r.add_get("/maintenance", maintenance.maintenance_page)
    r.add_post("/maintenance", maintenance.create)
    r.add_post("/maintenance/{id}/end", maintenance.end)
    r.add_get("/heartbeats", heartbeats.heartbeats_page)
    r.add_get("/drills", drills.drills_page)
    r.add_post("/drills", drills.start)
    r.add_get("/priorities", priorities.priorities_page)
    r.add_get("/health", insights.health_page)
    r.add_get("/sign-in", signin.sign_in_form)
    r.add_post("/sign-in", signin.sign_in)
    r.add_post("/sign-out", signin.sign_out)
    r.add_get("/events", stream.events)
    r.add_get("/static/{name}", assets.serve)


@contextlib.asynccontextmanager
async def running(pager: Pager, assets: Assets, users: UserFile) -> AsyncIterator[Console]:
    """The console's parts for one app, with its users already read."""
    settings = pager.settings
    key = reveal(settings.session_key) or await shared_secret(
        pager.db, "console_session_key", lambda: secrets.token_urlsafe(48), pager.clock.now()
    )
    sessions = Sessions(
        key,
        settings.session_max_age,
        secure=settings.public_is_https,
        path=settings.url_prefix + "/",
    )
    broadcaster = Broadcaster(pager.db, settings.web_poll_interval)
    console = Console(
        sessions,
        users,
        broadcaster,
        WebMetrics(pager.metrics.registry),
        assets,
        settings.url_prefix,
    )
    pager.engine.add_listener(broadcaster.poke)
    task = asyncio.create_task(broadcaster.run(), name="console-live-updates")
    try:
        yield console
    finally:
        broadcaster.close()
        await task


async def close_streams(app: web.Application) -> None:
    """on_shutdown: end every live stream now, so the server need not wait for them."""
    console = app.get(CONSOLE)
    if console is not None:
        console.broadcaster.close()
