"""On-call health in numbers: the figures of `pager report`, the Health page and
`GET /api/v1/report`, from one pure function over the rows the store reads.

Definitions (the README says the same for people):
- The period is ``[since, until)``; an incident belongs to it by when it opened.
  Drills are never counted (the store leaves them out); incidents opened in a
  maintenance window are counted as incidents but not in MTTA, MTTR or noise
  (nobody was paged).
- MTTA is opening to the first acknowledgement, MTTR opening to resolve, as
  `pager_time_to_ack_seconds` measures them; per priority (the incident's
  priority now), the median (the middle value, or the mean of the two middle
  ones) and p90 (nearest rank: the smallest value at least 90% of the values
  are not above).
- Incidents per week: ISO weeks (Monday to Sunday, UTC) that overlap the period.
- Pages: page and bundle messages sent to a person in the period. Out of hours:
  sent outside that person's `working_hours`, in their own time zone.
- Noise candidates: incidents resolved before anyone acknowledged them.
- Noisiest rules: incidents per rule, with their noise and their pages.
- Time on incidents: for each incident a person acknowledged, from the
  acknowledgement to the resolve (or the end of the period), overlapping
  incidents counted once, as a share of the whole period.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pager.core.hours import in_hours
from pager.policy.model import Hours, WorkingHours

RuleKey = tuple[int, int | None]  # (policy version, rule index; None: the default)
NOISIEST = 10


@dataclass(frozen=True)
class IncidentRow:
    id: int
    priority: str
    title: str
    created_at: datetime
    acked_at: datetime | None
    acked_by: str | None
    resolved_at: datetime | None
    suppressed: bool
    rule: RuleKey


@dataclass(frozen=True)
class PageRow:
    person: str
    sent_at: datetime
    incident_id: int | None


@dataclass(frozen=True)
class Rows:
    incidents: tuple[IncidentRow, ...]
    pages: tuple[PageRow, ...]


@dataclass(frozen=True)
class Spread:
    count: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class PriorityFigures:
    priority: str
    incidents: int
    mtta: Spread
    mttr: Spread


@dataclass(frozen=True)
class Week:
    start: date  # its Monday
    incidents: int


@dataclass(frozen=True)
class PersonFigures:
    person: str
    pages: int
    out_of_hours: int
    incident_seconds: float
    incident_share: float  # of the period, 0..1


@dataclass(frozen=True)
class Noise:
    id: int
    priority: str
    title: str
    lasted_seconds: float


@dataclass(frozen=True)
class RuleFigures:
    rule: str
    incidents: int
    noise: int
    pages: int


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    incidents: int
    in_maintenance: int
    priorities: tuple[PriorityFigures, ...]
    weeks: tuple[Week, ...]
    people: tuple[PersonFigures, ...]
    noise: tuple[Noise, ...]
    rules: tuple[RuleFigures, ...]


def p90(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def spread(values: Sequence[float]) -> Spread:
    return Spread(len(values), statistics.median(values) if values else None, p90(values))


def build(
    rows: Rows,
    hours: Mapping[str, Hours],
    rule_names: Mapping[RuleKey, str],
    since: datetime,
    until: datetime,
) -> Report:
    incidents = [i for i in rows.incidents if since <= i.created_at < until]
    paged = [i for i in incidents if not i.suppressed]
    pages = [p for p in rows.pages if since <= p.sent_at < until]
    return Report(
        since,
        until,
        len(incidents),
        len(incidents) - len(paged),
        _priorities(incidents, paged),
        _weeks(incidents, since, until),
        _people(incidents, pages, hours, since, until),
        tuple(_noise(paged)),
        _rules(incidents, pages, rule_names),
    )


def _priorities(
    incidents: Sequence[IncidentRow], paged: Sequence[IncidentRow]
) -> tuple[PriorityFigures, ...]:
    counts = Counter(i.priority for i in incidents)
    out = []
    for priority in sorted(counts, key=_rank):
        mine = [i for i in paged if i.priority == priority]
        acks = [(i.acked_at - i.created_at).total_seconds() for i in mine if i.acked_at]
        fixes = [(i.resolved_at - i.created_at).total_seconds() for i in mine if i.resolved_at]
        out.append(PriorityFigures(priority, counts[priority], spread(acks), spread(fixes)))
    return tuple(out)


def _rank(priority: str) -> tuple[int, str]:
    digits = priority[1:]
    return (int(digits) if digits.isdigit() else 99, priority)


def _weeks(incidents: Sequence[IncidentRow], since: datetime, until: datetime) -> tuple[Week, ...]:
    first = since.date() - timedelta(days=since.weekday())
    counts = Counter(
        i.created_at.date() - timedelta(days=i.created_at.weekday()) for i in incidents
    )
    weeks = []
    monday = first
    while datetime.combine(monday, datetime.min.time(), since.tzinfo) < until:
        weeks.append(Week(monday, counts.get(monday, 0)))
        monday += timedelta(days=7)
    return tuple(weeks)


def _people(
    incidents: Sequence[IncidentRow],
    pages: Sequence[PageRow],
    hours: Mapping[str, Hours],
    since: datetime,
    until: datetime,
) -> tuple[PersonFigures, ...]:
    sent: Counter[str] = Counter(p.person for p in pages)
    late: Counter[str] = Counter(
        p.person for p in pages if not in_hours(hours.get(p.person, DEFAULT_HOURS), p.sent_at)
    )
    busy = _busy(incidents, since, until)
    period = (until - since).total_seconds()
    people = sorted(set(sent) | set(busy), key=lambda p: (-sent[p], -busy.get(p, 0.0), p))
    return tuple(
        PersonFigures(p, sent[p], late[p], busy.get(p, 0.0), busy.get(p, 0.0) / period)
        for p in people
    )


DEFAULT_HOURS = WorkingHours().in_zone("UTC")


def _busy(incidents: Sequence[IncidentRow], since: datetime, until: datetime) -> dict[str, float]:
    """Seconds each acknowledger spent on incidents: ack to resolve, overlaps once."""
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for i in incidents:
        if i.acked_at is None or i.acked_by is None:
            continue
        start, end = max(i.acked_at, since), min(i.resolved_at or until, until)
        if end > start:
            spans[i.acked_by].append((start, end))
    return {person: _union(found) for person, found in spans.items()}


def _union(spans: list[tuple[datetime, datetime]]) -> float:
    total, reach = 0.0, None
    for start, end in sorted(spans):
        if reach is not None and start < reach:
            start = reach
        if end > start:
            total += (end - start).total_seconds()
        reach = max(reach, end) if reach is not None else end
    return total


def _noise(paged: Sequence[IncidentRow]) -> list[Noise]:
    return [
        Noise(i.id, i.priority, i.title, (i.resolved_at - i.created_at).total_seconds())
        for i in paged
        if i.resolved_at is not None and i.acked_at is None
    ]


def _rules(
    incidents: Sequence[IncidentRow], pages: Sequence[PageRow], names: Mapping[RuleKey, str]
) -> tuple[RuleFigures, ...]:
    name_of = {i.id: names.get(i.rule, _fallback(i.rule)) for i in incidents}
    count = Counter(name_of.values())
    noise = Counter(name_of[n.id] for n in _noise([i for i in incidents if not i.suppressed]))
    paged = Counter(name_of[p.incident_id] for p in pages if p.incident_id in name_of)
    ordered = sorted(count, key=lambda r: (-count[r], -paged[r], r))[:NOISIEST]
    return tuple(RuleFigures(r, count[r], noise[r], paged[r]) for r in ordered)


def _fallback(rule: RuleKey) -> str:
    return "default" if rule[1] is None else f"rules[{rule[1]}]"
