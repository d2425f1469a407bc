"""Benchmark 4, resources: start-up time and memory.

- start-up: `pager serve` process start -> first 200 from /readyz, on a fresh
  SQLite file (the migration included) and on an already migrated one;
  baseline: the bare aiohttp server's start -> first answer, and the time of
  `python -c "import aiohttp"`.
- memory: the daemon's RSS when idle, and with OPEN open incidents in its
  database after listing them through the API and rendering /metrics;
  baseline: the bare aiohttp server's RSS.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bench import procs
from bench.config import Config
from bench.policies import example_with_probes, timers
from bench.seed import seed_timers
from bench.stats import Row, Section, fmt, ratio, runs, verdict

TARGET_START_S = 1.0  # issue 18: start to ready ≤ 1 s (as bench/escalation.py TARGET_READY_S)
TARGET_RSS_MB = 150.0
PEOPLE = 250


async def _startups(cfg: Config, work: Path, policies: Path, fresh: bool) -> list[float]:
    times: list[float] = []
    migrated = f"sqlite+aiosqlite:///{work / 'migrated.db'}"
    for i in range(cfg.count(5, 3)):
        url = f"sqlite+aiosqlite:///{work / f'fresh-{i}.db'}" if fresh else migrated
        with procs.pager(work, url, policies) as daemon:
            times.append(await daemon.wait_ready())
    return times


async def _baseline_startups(cfg: Config, work: Path) -> tuple[list[float], float]:
    times: list[float] = []
    rss = float("nan")
    for _ in range(cfg.count(5, 3)):
        with procs.baseline(work) as proc:
            times.append(await proc.wait_ready())
            rss = procs.rss_mb(proc.pid)
    return times, rss


def _import_aiohttp(cfg: Config) -> list[float]:
    times = []
    for _ in range(cfg.count(5, 3)):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import aiohttp"], check=True)
        times.append(time.perf_counter() - t0)
    return times


async def _rss_with_open(cfg: Config, work: Path, kind: str) -> tuple[float, float, int]:
    """RSS and peak RSS of a daemon whose database holds `count` open incidents."""
    count = cfg.count(10_000, 2_000)
    (work / f"open-{kind}").mkdir()
    policy = timers(work / f"open-{kind}", PEOPLE)
    due = [time.time() + 3600 + i for i in range(count)]  # open, nothing due during the run
    async with procs.database(kind, work) as url:
        await seed_timers(url, policy, due, PEOPLE)
        with procs.pager(work, url, policy) as daemon:
            await daemon.wait_ready()
            headers = {"Authorization": f"Bearer {procs.API_TOKEN}"}
            async with aiohttp.ClientSession(headers=headers) as session:
                for path in ("/api/v1/incidents?state=open", "/metrics", "/healthz"):
                    async with session.get(daemon.url + path) as resp:
                        await resp.read()
            return procs.rss_mb(daemon.pid), procs.rss_mb(daemon.pid, "VmHWM"), count


async def run(cfg: Config, work: Path) -> Section:
    section = Section("4. Resources: start-up time and memory")
    policies = example_with_probes(work)
    fresh = runs(await _startups(cfg, work, policies, fresh=True))
    migrated = runs(await _startups(cfg, work, policies, fresh=False))
    base_times, base_rss = await _baseline_startups(cfg, work)
    base = runs(base_times)
    imports = runs(_import_aiohttp(cfg))
    for label, r in (("fresh SQLite, migration included", fresh), ("migrated SQLite", migrated)):
        section.add(
            Row(
                f"start -> /readyz 200, s ({label})",
                fmt(r.median),
                fmt(base.median),
                ratio(r.median, base.median),
                f"≤ {TARGET_START_S:g} s",
                verdict(r.median <= TARGET_START_S),
                r.spread,
            )
        )
    section.note(
        f"baseline: bare aiohttp server start -> first 200 {fmt(base.median)} s "
        f"({base.spread}); `python -c 'import aiohttp'` {fmt(imports.median)} s ({imports.spread})"
    )
    with procs.pager(work, f"sqlite+aiosqlite:///{work / 'migrated.db'}", policies) as daemon:
        await daemon.wait_ready()
        idle = procs.rss_mb(daemon.pid)
    section.add(Row("RSS idle, MB", fmt(idle), fmt(base_rss), ratio(idle, base_rss)))
    for kind in cfg.databases:
        now, peak, count = await _rss_with_open(cfg, work, kind)
        section.add(
            Row(
                f"{kind}: RSS with {count} open incidents, MB (peak {fmt(peak)})",
                fmt(now),
                fmt(base_rss),
                ratio(now, base_rss),
                f"≤ {TARGET_RSS_MB:g} MB",
                verdict(peak <= TARGET_RSS_MB),
                "1 run",
            )
        )
    return section
