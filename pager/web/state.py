"""What the console's handlers share: one `Console` per app, under a typed AppKey."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from pager.web.assets import Assets
from pager.web.live import Broadcaster
from pager.web.metrics import WebMetrics
from pager.web.ratelimit import RateLimit
from pager.web.sessions import Sessions
from pager.web.webconfig import UserFile

if TYPE_CHECKING:
    import jinja2

# Sign-in attempts: every attempt counts per address; failures count per person.
ADDRESS_LIMIT = (20, timedelta(minutes=10))
PERSON_LIMIT = (10, timedelta(minutes=10))


@dataclass
class Console:
    sessions: Sessions
    users: UserFile
    broadcaster: Broadcaster
    metrics: WebMetrics
    assets: Assets
    prefix: str  # the path of PAGER_PUBLIC_URL: "" or like "/pager"
    by_address: RateLimit = field(default_factory=lambda: RateLimit(*ADDRESS_LIMIT))
    by_person: RateLimit = field(default_factory=lambda: RateLimit(*PERSON_LIMIT))
    # made on the first page rendered (pager.web.render): Jinja2 is not needed before
    templates: jinja2.Environment | None = None

    def url(self, path: str) -> str:
        """A console path as the browser must ask for it (under the prefix)."""
        return self.prefix + path


CONSOLE = web.AppKey("console", Console)
ASSETS = web.AppKey("console_assets", Assets)


def console_of(request: web.Request) -> Console:
    return request.app[CONSOLE]
