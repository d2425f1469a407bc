"""The on-call health report for a period: read once (pager.store.report),
computed by the pure core (pager.core.report), shared by the Health page,
`GET /api/v1/report` and so `pager report`.

Rules are named as the policy the incident started with named them
(`rules[0]: severity="critical"`); people's working hours are those of the
running policy.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from pager.core.report import Report, RuleKey, build
from pager.policy.durations import parse_duration
from pager.services import Pager
from pager.store.report import report_rows

DEFAULT_PERIOD = timedelta(days=30)
LONGEST = timedelta(days=366)


class BadPeriod(ValueError):
    pass


def since_of(raw: str | None, now: datetime) -> datetime:
    """`30d` (a duration back from now) or an ISO-8601 instant with an offset."""
    if not raw:
        return now - DEFAULT_PERIOD
    if re.fullmatch(r"[0-9][0-9a-z]*", raw):
        try:
            back = parse_duration(raw)
        except ValueError as exc:
            raise BadPeriod(f"since: {exc}") from None
        if not timedelta(0) < back <= LONGEST:
            raise BadPeriod(f"since: {raw} is not between 1s and 366d")
        return now - back
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadPeriod(f"since: {raw!r} is neither a duration like 30d nor an ISO time") from None
    if at.tzinfo is None:
        raise BadPeriod(f"since: {raw!r} needs an offset, e.g. Z")
    if not timedelta(0) < now - at <= LONGEST:
        raise BadPeriod(f"since: {raw} must be in the past year")
    return at


async def report(pager: Pager, since: datetime, until: datetime) -> Report:
    async with pager.db.read() as session:
        rows = await report_rows(session, since, until)
    names: dict[RuleKey, str] = {}
    for version, index in {i.rule for i in rows.incidents}:
        names[(version, index)] = await _rule_name(pager, version, index)
    hours = {p.id: p.hours for p in pager.policies.active.policy.people}
    return build(rows, hours, names, since, until)


async def _rule_name(pager: Pager, version: int, index: int | None) -> str:
    if index is None:
        return "default"
    policy = await pager.policies.snapshot(version)
    if index >= len(policy.rules):
        return f"rules[{index}]"
    return f"rules[{index}]: " + ", ".join(policy.rules[index].matchers)


def as_json(found: Report) -> dict[str, Any]:
    return asdict(found)
