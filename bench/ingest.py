"""Benchmark 1, ingest: Alertmanager webhooks into pager, SQLite and PostgreSQL.

Per target (a fresh daemon on a fresh database, the dry-run notifier as
`make run` has it, the example policy; all alerts `severity="critical"`, so
every new group opens a P1 incident the engine pages for in the same process):
- sustained throughput: `WORKERS` connections posting back to back (closed
  loop) for several runs; alerts/s per run;
- latency at half that rate: an open loop at a fixed rate, latency counted from
  each webhook's scheduled send time; p99 per run.
The baseline is a bare aiohttp handler that parses the same JSON and answers
200 (bench/servers.py), under the same loads.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from bench import procs
from bench.config import Config
from bench.load import Result, Webhooks, closed_loop, open_loop
from bench.policies import example_with_probes
from bench.stats import Row, Section, fmt, pct, ratio, runs, verdict

WORKERS = 8
TARGET_RATIO = 0.25
TARGET_P99_MS = 50.0


def _cpu_seconds(pid: int) -> float:
    """CPU time `pid` has used so far (user + system, all threads), from /proc."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return float("nan")


class _Target:
    """One server under test and its own deterministic webhook sequence."""

    def __init__(self, proc: procs.Proc) -> None:
        self.proc, self.hooks = proc, Webhooks(seed=1)
        self.closed: list[Result] = []
        self.opened: dict[float, list[Result]] = {}
        self.server_cpu: list[float] = []  # the server's CPU seconds / wall seconds, per run

    async def sustained(self, cfg: Config) -> None:
        await closed_loop([self.proc.port], self.hooks.next, cfg.pick(3, 1), WORKERS)  # warm-up
        for _ in range(cfg.count(5, 3)):
            cpu0, t0 = _cpu_seconds(self.proc.pid), time.perf_counter()
            self.closed.append(
                await closed_loop([self.proc.port], self.hooks.next, cfg.pick(8, 3), WORKERS)
            )
            used = _cpu_seconds(self.proc.pid) - cpu0
            self.server_cpu.append(used / (time.perf_counter() - t0))

    @property
    def rate(self) -> float:
        """Median sustained alerts/s."""
        return runs([r.alerts_per_s for r in self.closed]).median

    async def at_rate(self, cfg: Config, webhooks_per_s: float) -> None:
        found = self.opened.setdefault(webhooks_per_s, [])
        for _ in range(cfg.count(3, 2)):
            found.append(
                await open_loop(self.proc.port, webhooks_per_s, cfg.pick(8, 3), self.hooks.next)
            )


async def run(cfg: Config, work: Path) -> Section:
    section = Section("1. Ingest: Alertmanager webhooks, 10 alerts each")
    policies = example_with_probes(work)
    measured: dict[str, _Target] = {}
    for kind in cfg.databases:
        async with procs.database(kind, work) as url:
            with procs.pager(work, url, policies) as proc:
                await proc.wait_ready()
                target = _Target(proc)
                await target.sustained(cfg)
                await target.at_rate(cfg, target.rate / 2 / 10)
                measured[kind] = target
                section.note(f"pager on {kind}: RSS {procs.rss_mb(proc.pid):.0f} MB after the runs")
    with procs.baseline(work) as proc:
        await proc.wait_ready()
        base = _Target(proc)
        await base.sustained(cfg)
        for target in measured.values():
            await base.at_rate(cfg, target.rate / 2 / 10)
    _report(section, measured, base)
    return section


def _report(section: Section, measured: dict[str, _Target], base: _Target) -> None:
    for kind, target in measured.items():
        rate = runs([r.alerts_per_s for r in target.closed])
        ok = rate.median >= TARGET_RATIO * base.rate
        section.add(
            Row(
                f"{kind}: sustained alerts/s ({WORKERS} connections, closed loop)",
                fmt(rate.median),
                fmt(base.rate),
                ratio(rate.median, base.rate),
                f"≥ {TARGET_RATIO} × baseline",
                verdict(ok),
                rate.spread,
            )
        )
    for kind, target in measured.items():
        hooks_per_s = target.rate / 2 / 10
        p99 = runs([pct(r.latencies, 99) * 1000 for r in target.opened[hooks_per_s]])
        p50 = runs([pct(r.latencies, 50) * 1000 for r in target.opened[hooks_per_s]])
        b99 = runs([pct(r.latencies, 99) * 1000 for r in base.opened[hooks_per_s]])
        section.add(
            Row(
                f"{kind}: p99 webhook latency, ms, open loop at half rate "
                f"({hooks_per_s * 10:.0f} alerts/s; p50 {fmt(p50.median)} ms)",
                fmt(p99.median),
                fmt(b99.median),
                ratio(p99.median, b99.median),
                f"≤ {TARGET_P99_MS:g} ms",
                verdict(p99.median <= TARGET_P99_MS),
                p99.spread,
            )
        )
    _notes(section, measured, base)


def _notes(section: Section, measured: dict[str, _Target], base: _Target) -> None:
    for name, target in [*measured.items(), ("baseline", base)]:
        results = target.closed + [r for rs in target.opened.values() for r in rs]
        errors = sum(r.errors for r in results)
        statuses = sorted({s for r in results for s in r.statuses})
        cpu = max(r.cpu for r in target.closed)
        overloaded = sum(r.overloaded for r in results)
        server = runs([c * 100 for c in target.server_cpu])
        section.note(
            f"{name}: HTTP statuses {statuses}, {errors} non-2xx; load generator CPU "
            f"≤ {cpu:.0%} of one core in the closed loop, the server's {fmt(server.median)}% "
            f"(all its threads; {server.spread}); open-loop sends that found "
            f"all 64 connections busy: {overloaded}"
        )
