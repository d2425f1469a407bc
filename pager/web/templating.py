"""The console's Jinja environment: autoescaped templates from pager/web/templates,
strict about undefined names, with the helpers the pages use.

Made on the first page rendered (pager.web.render), once per app: Jinja2 is
not imported by a daemon until someone opens its console.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import jinja2

from pager.web import fmt
from pager.web.assets import Assets
from pager.web.views import priority_rank

SAFE_URL = re.compile(r"^https?://[^\s<>\"']+$")


def safe_url(value: Any) -> bool:
    """Only http(s) links are made clickable: an annotation can hold anything."""
    return isinstance(value, str) and bool(SAFE_URL.fullmatch(value))


def environment(prefix: str, assets: Assets) -> jinja2.Environment:
    """`prefix`: the path of PAGER_PUBLIC_URL ("" or like "/pager"); every link starts with it."""

    def url(path: str, **query: Any) -> str:
        shown = {k: v for k, v in query.items() if v not in (None, "")}
        return prefix + path + (f"?{urlencode(shown, doseq=True)}" if shown else "")

    env = jinja2.Environment(
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
    return env
