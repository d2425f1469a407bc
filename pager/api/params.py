"""Parsing what admin API callers send: instants, ids, required fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from pager.core.rotation import local_instant
from pager.core.via import CLI_USER_AGENT, Via
from pager.http import ApiError


def instant(value: Any, name: str) -> datetime:
    """An ISO-8601 instant with an offset (or Z); 400 naming the field otherwise."""
    parsed = _iso(value, name)
    if parsed.tzinfo is None:
        raise ApiError(400, f"{name}: {value!r} needs an offset, e.g. Z or +01:00")
    return parsed.astimezone(UTC)


def wall_clock(value: Any, name: str, zone: str) -> datetime:
    """An ISO-8601 instant; one without an offset is a wall-clock time in `zone`
    (a time the clocks skip is the first instant after the jump; a time that
    happens twice, its first occurrence)."""
    parsed = _iso(value, name)
    if parsed.tzinfo is None:
        return local_instant(parsed, ZoneInfo(zone))
    return parsed.astimezone(UTC)


def _iso(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be an ISO-8601 time like 2026-03-01T09:00:00Z")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ApiError(400, f"{name}: {value!r} is not an ISO-8601 time") from None


def text(body: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"{name} is required (a non-empty string)")
    return value.strip()


def number(raw: str, name: str) -> int:
    if not raw.isdigit():
        raise ApiError(400, f"{name} {raw!r} is not a number")
    return int(raw)


def via_of(request: web.Request) -> Via:
    """Where an admin API call came from: the `pager` command says so by its User-Agent."""
    agent = request.headers.get("User-Agent", "")
    return Via.CLI if agent.startswith(CLI_USER_AGENT) else Via.API
