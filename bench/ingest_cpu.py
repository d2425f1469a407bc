"""Ingest alone, in-process: the CPU and statements a webhook costs, writer and engine.

`python -m bench.ingest_cpu [--db sqlite|postgres] [--hooks N] [--senders N]
[--no-engine] [--profile FILE]`

Runs pager as the daemon does (writer, engine with the dry-run notifier, the
example policy with the bench's probes, migrations) but without HTTP: `senders`
tasks each parse the next webhook of bench/load.py's sequence (10 alerts; 40%
new groups, each a P1 the engine pages, 40% repeats, 20% resolves) and hand it
to `pager.ingest.handlers.ingest`, back to back, until `hooks` are committed.
Then it waits for the engine to page what was opened. Prints webhooks/s, CPU
per webhook (this process, all threads: the loop and aiosqlite's threads) and
statements per webhook, for the writer (its batches) and in all. With
`--no-engine` the engine does not run. `--profile` writes a cProfile dump of
the loop's thread (`python -m pstats FILE`). Figures move with the machine's
load: compare runs made back to back.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.load import Webhooks
from bench.policies import example_with_probes
from bench.procs import PG_ADMIN_URL
from pager import app as pager_app
from pager.clock import SystemClock
from pager.ingest.handlers import ingest
from pager.ingest.payloads import read_alertmanager
from pager.notify.dryrun import DryRunNotifier
from pager.settings import Settings
from tests.scratch import scratch_database


class _Statements:
    def __init__(self, sync_engine: Any) -> None:
        self.count = 0
        self.kinds: dict[str, int] = {}
        event.listen(sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.count += 1
        what = " ".join(str(args[2]).split()[:3])[:40] + (" (many)" if args[5] else "")
        self.kinds[what] = self.kinds.get(what, 0) + 1


async def _send(pager: Any, hooks: Webhooks, left: list[int]) -> None:
    while left[0] > 0:
        left[0] -= 1
        body, _kind = hooks.next()
        await ingest(pager, read_alertmanager(body).alerts)


async def run(url: str, n: int, senders: int, engine: bool, profile: Path | None) -> None:
    logging.disable(logging.WARNING)  # the dry-run notifier logs every page
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=url, policies=example_with_probes(Path(tmp)))
        running = pager_app._running(
            settings, SystemClock(), DryRunNotifier(), None, engine, True, None
        )
        async with running as pager:
            counted = _Statements(pager.db.engine.sync_engine)
            hooks = Webhooks(seed=1)
            await asyncio.gather(*(_send(pager, hooks, [50]) for _ in range(1)))  # warm-up
            await asyncio.sleep(0.5)
            counted.count, counted.kinds = 0, {}
            prof = cProfile.Profile() if profile else None
            left = [n]
            t0, cpu0 = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            await asyncio.gather(*(_send(pager, hooks, left) for _ in range(senders)))
            wall, cpu, stmts = time.perf_counter() - t0, time.process_time() - cpu0, counted.count
            await asyncio.sleep(1.5 if engine else 0)  # the engine pages what is still due
            if prof and profile:
                prof.disable()
                prof.dump_stats(profile)
            cpu_all = time.process_time() - cpu0
            print(
                f"{url.split(':')[0]}: {n} webhooks, {senders} senders"
                f"{'' if engine else ', no engine'}: {n / wall:.0f} webhooks/s; "
                f"while sending {cpu / n * 1000:.2f} ms CPU and {stmts / n:.2f} statements "
                f"a webhook; with the engine's drain {cpu_all / n * 1000:.2f} ms, "
                f"{counted.count / n:.2f} statements"
            )
            if os.environ.get("INGEST_CPU_STATEMENTS"):
                for what, k in sorted(counted.kinds.items(), key=lambda kv: -kv[1])[:30]:
                    print(f"  {k / n:6.2f}  {what}")


async def main(db: str, n: int, senders: int, engine: bool, profile: Path | None) -> None:
    if db == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            await run(f"sqlite+aiosqlite:///{tmp}/ingest.db", n, senders, engine, profile)
        return
    async with scratch_database(PG_ADMIN_URL, "pager_ingest_cpu") as url:
        await run(url, n, senders, engine, profile)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--hooks", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--no-engine", action="store_true")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    asyncio.run(main(args.db, args.hooks, args.senders, not args.no_engine, args.profile))
