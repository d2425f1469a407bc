"""Durations as Prometheus writes them (``model.ParseDuration`` / ``Duration.String()``).

Guarantees:
* Grammar: ``0``, or numbers each followed by one of the units
  ``y w d h m s ms`` (a year is 365 days, a week 7), each unit at most once and
  largest first: ``1h30m`` and ``90d`` are durations, ``1m1h``, ``1h1h``,
  ``1.5h``, ``-1h`` and ``1h `` are not. At most what Go's ``time.Duration``
  holds (about 292 years): ``1000000000d`` is "out of range", never an
  overflow. A YAML number is only accepted as ``0`` (Prometheus reads ``0`` as
  text too); ``5`` needs a unit.
* :func:`format_duration` prints as Prometheus prints: the largest units
  first, years and weeks only when they divide the whole, milliseconds last:
  ``1y``, ``2w``, ``90d``, ``1h30m``, ``1s500ms``, ``0s``.
* ``Duration`` allows zero (``after: 0``); ``PositiveDuration`` does not, for
  waits that would otherwise repeat at once (``ack_timeout``, ``expect_every``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

_MS = {"y": 31_536_000_000, "w": 604_800_000, "d": 86_400_000, "h": 3_600_000}
_MS |= {"m": 60_000, "s": 1000, "ms": 1}
_ORDER = tuple(_MS)  # largest first
_MAX_NS = 2**63 - 1  # Go's time.Duration
_HINT = "use e.g. 30s, 5m, 1h30m, 2d, 1w, each unit once, largest first"


def parse_duration(text: str) -> timedelta:
    """Parse Prometheus duration text; raise ValueError naming the text."""
    if text == "0":
        return timedelta(0)
    if not text:
        raise ValueError(f"empty duration: {_HINT}")
    total_ms, last, rest = 0, -1, text
    while rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        unit_end = digits + len(rest[digits:]) - len(rest[digits:].lstrip("ywdhms"))
        number, unit, rest = rest[:digits], rest[digits:unit_end], rest[unit_end:]
        if not number or unit not in _MS:
            raise ValueError(f"invalid duration {text!r}: {_HINT}")
        if _ORDER.index(unit) <= last:
            raise ValueError(f"invalid duration {text!r}: units go largest first, each once")
        last = _ORDER.index(unit)
        total_ms += int(number[-20:]) * _MS[unit]  # more digits than that is out of range anyway
        if len(number.lstrip("0")) > 19 or total_ms * 1_000_000 > _MAX_NS:
            raise ValueError(f"duration {text!r} is out of range (at most about 292y)")
    return timedelta(milliseconds=total_ms)


def format_duration(value: timedelta) -> str:
    """Prometheus's ``Duration.String()``: ``1h30m``, ``90d``, ``2w``, ``0s``."""
    ms = value // timedelta(milliseconds=1)
    if ms == 0:
        return "0s"
    sign, ms, out = ("-" if ms < 0 else ""), abs(ms), []
    for unit in _ORDER:
        size = _MS[unit]
        if unit in "yw" and ms % size:
            continue  # 90d reads better than 12w6d
        if ms >= size:
            out.append(f"{ms // size}{unit}")
            ms %= size
    return sign + "".join(out)


def _coerce(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, bool) or not isinstance(value, int | float | timedelta):
        raise ValueError(f"expected a duration such as 5m, got {value!r}")
    if value == 0 and isinstance(value, int):
        return timedelta(0)
    if isinstance(value, int | float):
        raise ValueError(f"duration {value!r} needs a unit, e.g. {value}s or {value}m")
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be more than 0 (e.g. 5m)")
    return value


Duration = Annotated[timedelta, BeforeValidator(_coerce), PlainSerializer(format_duration)]
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
