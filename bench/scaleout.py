"""Benchmark 5, scale-out on PostgreSQL: 1 versus 3 `pager serve` replicas.

Each configuration gets a fresh database, the example policy, real Twilio
settings aimed at the recorder, and the same load: WORKERS connections
posting the same webhook sequence back to back, spread round-robin over the
replicas. Then the outbox is left to drain, and every request the fake Twilio
received is checked: a notification id (the `n=` of its StatusCallback) seen
twice is a double page; pages per person beyond the example throttle are
counted too. The baseline is the single replica, measured in the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from pathlib import Path
from typing import Any

from bench import procs, readback
from bench.config import Config
from bench.load import Result, Webhooks, closed_loop
from bench.page_latency import THROTTLE
from bench.policies import example_with_probes
from bench.stats import Row, Section, fmt, ratio, runs, verdict

WORKERS = 12


async def _kinds(url: str) -> dict[int, tuple[str, str, str]]:
    rows = await readback.notifications(url, "id", "person_id", "channel", "kind")
    return {r.id: (r.person_id, r.channel, r.kind) for r in rows}


async def _config(cfg: Config, work: Path, policies: Path, replicas: int) -> dict[str, Any]:
    async with procs.database("postgres", work) as url:
        with procs.recorder(work) as rec, contextlib.ExitStack() as stack:
            await rec.wait_ready("/count")
            daemons = [
                stack.enter_context(procs.pager(work, url, policies, twilio_url=rec.url))
                for _ in range(replicas)
            ]
            await asyncio.gather(*(d.wait_ready() for d in daemons))
            ports = [d.port for d in daemons]
            hooks = Webhooks(seed=3)
            await closed_loop(ports, hooks.next, cfg.pick(3, 1), WORKERS)  # warm-up
            results: list[Result] = [
                await closed_loop(ports, hooks.next, cfg.pick(8, 3), WORKERS)
                for _ in range(cfg.count(3, 2))
            ]
            await asyncio.sleep(cfg.pick(10, 5))  # let the outbox drain
            found = await procs.records(rec.url)
            kinds = await _kinds(url)
    return {"results": results, "records": found, "kinds": kinds}


def _checks(
    found: list[dict[str, Any]], kinds: dict[int, tuple[str, str, str]]
) -> tuple[int, list[str], Counter[str]]:
    ids = Counter(r["n"] for r in found if r["n"] is not None)
    doubles = sum(n - 1 for n in ids.values() if n > 1)
    per: Counter[tuple[str, str]] = Counter()
    by_kind: Counter[str] = Counter()
    for n in ids:
        person, channel, kind = kinds.get(n, ("?", "?", "?"))
        by_kind[kind] += 1
        if kind in ("page", "bundle"):
            per[(person, channel)] += 1
    over = [f"{p} {c}: {k}" for (p, c), k in sorted(per.items()) if k > THROTTLE.get(c, 0)]
    return doubles, over, by_kind


async def run(cfg: Config, work: Path) -> Section:
    section = Section("5. Scale-out on PostgreSQL: 1 versus 3 replicas")
    if "postgres" not in cfg.databases:
        section.note("skipped: PostgreSQL not selected")
        return section
    policies = example_with_probes(work)
    measured = {n: await _config(cfg, work, policies, n) for n in (1, 3)}
    one = runs([r.alerts_per_s for r in measured[1]["results"]])
    three = runs([r.alerts_per_s for r in measured[3]["results"]])
    section.add(
        Row(
            f"3 replicas: alerts/s ({WORKERS} connections round-robin; baseline: 1 replica)",
            fmt(three.median),
            fmt(one.median),
            ratio(three.median, one.median),
            "> 1 replica",
            verdict(three.median > one.median),
            f"3: {three.spread}; 1: {one.spread}",
        )
    )
    for n, m in measured.items():
        doubles, over, by_kind = _checks(m["records"], m["kinds"])
        errors = sum(r.errors for r in m["results"])
        section.add(
            Row(
                f"{n} replica(s): double sends (a notification id at the fake Twilio twice)",
                str(doubles),
                "",
                "",
                "0",
                verdict(doubles == 0),
                f"{len(m['records'])} requests: {dict(by_kind)}",
            )
        )
        section.note(
            f"{n} replica(s): {errors} non-2xx webhooks; people paged over the throttle "
            f"(page+bundle per 15 min): {', '.join(over) or 'none'}"
        )
    section.note(
        "the machine has 2 cores shared by the replicas, PostgreSQL and the load generator, "
        "so 3 replicas can add little throughput here; the point is that they stay correct"
    )
    return section
