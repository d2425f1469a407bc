"""Wiring the console into the app: its routes and its running parts.

`setup_console(app, settings)` is called by the app factory; `running()` is
entered once the Pager exists (it needs the database for the shared session
key). Nothing happens at import time.

The pages themselves (pager.web.pages, and with them Jinja2) are imported on
the first request for one: the routes are registered at start by name, so a
daemon is ready to page without them (issue 18: start to ready ≤ 1 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from pager.edge import Handler, route_on_demand
from pager.services import Pager
from pager.settings import Settings, reveal
from pager.store.secrets import shared_secret
from pager.web.assets import Assets
from pager.web.live import Broadcaster
from pager.web.metrics import WebMetrics
from pager.web.sessions import Sessions
from pager.web.state import ASSETS, CONSOLE, Console
from pager.web.webconfig import UserFile

VERBS = ("ack", "escalate", "resolve")  # POST /incidents/{id}/<verb>: pager.web.acting.VERBS
# method, path, name of the handler in pager.web.pages.HANDLERS
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/", "now"),
    ("GET", "/incidents", "incidents"),
    ("POST", "/incidents/bulk", "bulk"),
    ("GET", "/incidents/{id}", "incident"),
    *(("POST", f"/incidents/{{id}}/{verb}", f"incident_{verb}") for verb in VERBS),
    ("POST", "/incidents/{id}/updates", "status_update"),
    ("GET", "/incidents/{id}/review", "review"),
    ("POST", "/incidents/{id}/review/versions", "review_save"),
    ("POST", "/incidents/{id}/review/held", "review_held"),
    ("POST", "/incidents/{id}/actions", "review_add_item"),
    ("GET", "/reviews", "reviews"),
    ("GET", "/actions", "actions"),
    ("POST", "/actions/{id}/close", "action_close"),
    ("POST", "/actions/{id}/reassign", "action_reassign"),
    ("GET", "/schedule", "schedules"),
    ("GET", "/schedule/{rotation}", "schedule"),
    ("POST", "/overrides", "override_add"),
    ("POST", "/overrides/{id}/remove", "override_remove"),
    ("GET", "/my", "my"),
    ("POST", "/my/calendar", "calendar_new_link"),
    ("GET", "/calendar/{token}/person.ics", "calendar_person"),
    ("GET", "/calendar/{token}/rotation/{rotation}.ics", "calendar_rotation"),
    ("GET", "/maintenance", "maintenance"),
    ("POST", "/maintenance", "maintenance_create"),
    ("POST", "/maintenance/{id}/end", "maintenance_end"),
    ("GET", "/heartbeats", "heartbeats"),
    ("GET", "/drills", "drills"),
    ("POST", "/drills", "drill_start"),
    ("GET", "/priorities", "priorities"),
    ("GET", "/health", "health"),
    ("GET", "/sign-in", "sign_in_form"),
    ("POST", "/sign-in", "sign_in"),
    ("POST", "/sign-out", "sign_out"),
    ("GET", "/events", "events"),
)


def setup_console(app: web.Application, settings: Settings) -> None:
    assets = Assets()
    app[ASSETS] = assets
    add_routes(app.router, assets)


def add_routes(r: web.UrlDispatcher, assets: Assets) -> None:
    route_on_demand(r, ROUTES, _pages)
    r.add_get("/static/{name}", assets.serve)


def _pages() -> Mapping[str, Handler]:
    from pager.web import pages

    return pages.HANDLERS


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
