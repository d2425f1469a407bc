"""Durations as policy files write them: ``30s``, ``5m``, ``2h``, ``1d``, ``1w``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)([smhdw])")


def parse_duration(text: str) -> timedelta:
    """Parse ``1h30m`` style text; raise ValueError naming the bad text."""
    text = text.strip()
    if not text or _PART.sub("", text) != "":
        raise ValueError(f"invalid duration {text!r}: use e.g. 30s, 5m, 2h, 1d, 1w")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _PART.findall(text)))


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit in "wdhms":
        size = _UNITS[unit]
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def _coerce(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"duration {value!r} needs a unit, e.g. {value}s or {value}m")
    return value


Duration = Annotated[timedelta, BeforeValidator(_coerce), PlainSerializer(format_duration)]
