"""Benchmark 3, escalation lateness: open incidents whose timers fall due, at scale.

Two sizes, each on each database: 10,000 open incidents whose timers all fall
due during the run, and 100,000 open incidents of which the same 10,000 fall
due during the run (the other 90,000 an hour later: they are what the engine's
queries must not slow down for). The database is seeded directly
(bench/seed.py) with incidents at level 0 whose ack timeout falls due, spread
evenly over SPAN seconds starting a little after the daemon is up. Then
`pager serve` runs with the real clock and real Twilio settings aimed at the
recorder; each due timer moves its incident to level 1, which pages one
person by SMS. Lateness = the recorder's arrival time
of that SMS - the due time: so it includes the escalator, the outbox, the
sender and one HTTP request to the fake Twilio. The daemon's RSS is sampled
every half second.

The policy (bench/policies.py `timers`) spreads incidents over PEOPLE people
with a wide throttle, so every timer ends at the notifier; the example
throttle would fold all but 5 per person into bundles.

Baseline, in the same run and on the same schedule: a bare asyncio loop in
this process that sleeps until each due time and notes how late it woke.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path

from bench import procs
from bench.config import Config
from bench.policies import timers
from bench.seed import seed_timers
from bench.stats import Row, Section, fmt, pct, ratio, verdict

PEOPLE = 250
TARGET_READY_S = 1.0


@dataclass(frozen=True)
class Case:
    """`open` incidents seeded, the first `due` of them due over `span` seconds."""

    open: int
    due: int
    span: float
    target_p99_s: float
    target_rss_mb: float


def cases(cfg: Config) -> list[Case]:
    due, span = cfg.count(10_000, 2_000), cfg.pick(150, 30)
    return [
        Case(cfg.count(10_000, 2_000), due, span, 0.05, 150.0),
        Case(100_000, due, span, 0.25, 400.0),
    ]


_INCIDENT = re.compile(r"#(\d+)\b")


async def _bare_timers(due: list[float]) -> list[float]:
    """The baseline: how late a plain asyncio sleep wakes for each due time."""
    late: list[float] = []
    for at in due:
        delay = at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        late.append(time.time() - at)
    return late


async def _sample_rss(pid: int, stop: asyncio.Event, into: list[float]) -> None:
    while not stop.is_set():
        into.append(procs.rss_mb(pid))
        await asyncio.sleep(0.5)


async def _until_paged(recorder: str, count: int, deadline: float) -> None:
    for _ in range(int(max(0.0, deadline - time.time()) / 2) + 1):  # polls a process
        if await procs.record_count(recorder) >= count:
            return
        await asyncio.sleep(2)


@dataclass
class Measured:
    late: list[float]  # per paged incident, seconds
    base: list[float]  # the bare timer loop, seconds
    rss: list[float]  # MB samples
    peak: float  # VmHWM, MB
    case: Case
    seeded: float
    ready: float
    ready_lead: float  # seconds between ready and the first due timer
    sends: int


async def measure(cfg: Config, work: Path, kind: str, case: Case) -> Measured:
    """One seeded run on `kind`: lateness per incident, baseline lateness, RSS samples."""
    count, span = case.due, case.span
    (work / f"timers-{kind}-{case.open}").mkdir()
    policy = timers(work / f"timers-{kind}-{case.open}", PEOPLE)
    async with procs.database(kind, work) as url:
        t0 = time.perf_counter()
        # seeding first, then start-up: both before the first timer
        lead = cfg.pick(25, 15) + case.open / 10_000 * 2
        start = time.time() + lead
        due = [start + span * i / count for i in range(count)]
        later = [start + 3600 + i / 100 for i in range(case.open - count)]
        await seed_timers(url, policy, due + later, PEOPLE)
        seeded = time.perf_counter() - t0
        with procs.recorder(work) as rec:
            await rec.wait_ready("/count")
            with procs.pager(work, url, policy, twilio_url=rec.url) as daemon:
                ready = await daemon.wait_ready()
                ready_at = time.time()
                rss: list[float] = []
                stop = asyncio.Event()
                sampler = asyncio.create_task(_sample_rss(daemon.pid, stop, rss))
                base = await _bare_timers(due)
                await _until_paged(rec.url, count, due[-1] + 60)
                stop.set()
                await sampler
                peak = procs.rss_mb(daemon.pid, "VmHWM")
                found = await procs.records(rec.url)
    first: dict[int, float] = {}
    for r in found:
        match = _INCIDENT.search(r["body"])
        if match:
            first.setdefault(int(match[1]), r["t"])
    late = [first[i + 1] - due[i] for i in range(count) if i + 1 in first]
    return Measured(late, base, rss, peak, case, seeded, ready, start - ready_at, len(found))


async def run(cfg: Config, work: Path) -> Section:
    section = Section("3. Escalation lateness: open incidents whose timers fall due")
    for case in cases(cfg):
        for kind in cfg.databases:
            m = await measure(cfg, work, kind, case)
            _report(section, kind, m)
    return section


def _report(section: Section, kind: str, m: Measured) -> None:
    case = m.case
    p99, b99 = pct(m.late, 99), pct(m.base, 99)
    missing = case.due - len(m.late)
    section.add(
        Row(
            f"{kind}, {case.open:,} open: lateness p99, s (p50 {fmt(pct(m.late, 50))} s, max "
            f"{fmt(pct(m.late, 100))} s; {case.due} timers over {case.span:g} s, "
            f"{missing} never paged)",
            fmt(p99),
            fmt(b99),
            ratio(p99, b99),
            f"≤ {case.target_p99_s:g} s",
            verdict(p99 <= case.target_p99_s and missing == 0),
            f"p90 {fmt(pct(m.late, 90))} s, p99.9 {fmt(pct(m.late, 99.9))} s (1 run)",
        )
    )
    rss = [x for x in m.rss if x == x]  # drop nan (a sample after exit)
    section.add(
        Row(
            f"{kind}, {case.open:,} open: daemon RSS, MB, peak "
            f"(median of samples {fmt(_median(rss))})",
            fmt(m.peak),
            "",
            "",
            f"≤ {case.target_rss_mb:g} MB",
            verdict(m.peak <= case.target_rss_mb),
            f"samples {fmt(min(rss, default=float('nan')))}..{fmt(max(rss, default=float('nan')))}",
        )
    )
    section.add(
        Row(
            f"{kind}, {case.open:,} open: start -> /readyz 200, s",
            fmt(m.ready),
            "",
            "",
            f"≤ {TARGET_READY_S:g} s",
            verdict(m.ready <= TARGET_READY_S),
            "1 run",
        )
    )
    section.note(
        f"{kind}, {case.open:,} open: seeding took {m.seeded:.1f} s (bulk inserts), the daemon "
        f"was ready {m.ready:.2f} s after start, {m.ready_lead:.1f} s before the first timer "
        "fell due; "
        f"{m.sends} requests reached the fake Twilio; baseline p50 "
        f"{fmt(pct(m.base, 50) * 1000)} ms, max {fmt(pct(m.base, 100) * 1000)} ms"
    )


def _median(values: list[float]) -> float:
    return pct(values, 50)
