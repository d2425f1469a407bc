"""The engine alone, in-process: how fast it escalates and sends, and where its time goes.

`python -m bench.engine_cpu [--open N] [--due N] [--db sqlite|postgres] [--profile FILE]`

Seeds `open` incidents (bench/seed.py), `due` of them due now and the rest an
hour later, then runs the engine with a FakeClock and an instant notifier
until every due incident is paged: no HTTP, no provider latency, so the
figure is the engine's own cost per page (escalate, claim, start, record).
Prints pages/s and statements per page (on SQLite also the calls queued for
aiosqlite's connection threads, each a hand-off to a thread and back: see
pager/store/sqlite_driver.py); `--profile` writes a cProfile dump
(`python -m pstats FILE`). Used to find the hot spots; the daemon benchmark
(bench/escalation.py) is the one whose figures are the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.policies import timers
from bench.seed import seed_timers
from pager.clock import FakeClock
from pager.core.outcome import Outcome
from pager.engine.engine import Engine
from pager.engine.policy_runtime import PolicyRuntime
from pager.metrics import Metrics
from pager.notify.base import Message, SendResult
from pager.store.db import Database

PEOPLE = 250


class Trips:
    """Stands in for an aiosqlite connection's queue of calls for its thread,
    counting them (the thread keeps reading the queue it was started with)."""

    def __init__(self, queue: Any, count: list[int]) -> None:
        self.queue, self.count = queue, count

    def put_nowait(self, item: Any) -> None:
        self.count[0] += 1
        self.queue.put_nowait(item)


def count_trips(db: Database) -> list[int]:
    """Count the calls queued for the threads of the SQLite connections the pool makes."""
    count = [0]

    @event.listens_for(db.engine.sync_engine, "connect")
    def _wrap(dbapi_conn: Any, _record: Any) -> None:
        driver = dbapi_conn.driver_connection  # the aiosqlite.Connection
        driver._tx = Trips(driver._tx, count)

    return count


class Instant:
    """A notifier that accepts everything at once."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, message: Message) -> SendResult:
        self.sent += 1
        return SendResult(Outcome.ACCEPTED, provider_id=f"SM{message.notification_id:030d}")

    async def find_sent(self, message: Message, since: datetime) -> list[str]:
        return []

    async def close(self) -> None:
        return None


async def run(url: str, open_: int, due: int, profile: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        policy = timers(Path(tmp), PEOPLE)
        start = datetime.now(UTC) + timedelta(seconds=60)
        at = [start.timestamp()] * due + [start.timestamp() + 3600] * (open_ - due)
        await seed_timers(url, policy, at, PEOPLE)
        db = Database(url)
        trips = count_trips(db) if db.is_sqlite else None
        clock = FakeClock(start + timedelta(seconds=1))
        policies = PolicyRuntime(policy, db, clock)
        await policies.reload()
        notifier = Instant()
        metrics = Metrics(tuple(policies.active.policy.priorities))
        engine = Engine(db, clock, policies, notifier, metrics)
        statements = [0]
        kinds: dict[str, int] = {}

        def count(*args: Any) -> None:
            statements[0] += 1
            what = " ".join(str(args[2]).split()[:4])[:60]
            kinds[what] = kinds.get(what, 0) + 1

        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        prof = cProfile.Profile() if profile else None
        trips0 = trips[0] if trips else 0
        t0, cpu0 = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        while notifier.sent < due:
            await engine.tick()
            await engine.drain()
        if prof and profile:
            prof.disable()
            prof.dump_stats(profile)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        print(
            f"{url.split(':')[0]}: {open_:,} open, {due:,} paged in {wall:.2f} s: "
            f"{due / wall:.0f} pages/s, {cpu / due * 1000:.2f} ms CPU and "
            f"{statements[0] / due:.1f} statements per page"
            + (f", {(trips[0] - trips0) / due:.1f} trips to the SQLite thread" if trips else "")
        )
        if os.environ.get("ENGINE_CPU_STATEMENTS"):
            for what, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:25]:
                print(f"  {n / due:6.2f}  {what}")
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_cpu")
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp}/engine.db"
            asyncio.run(run(url, args.open, args.due, args.profile))
        else:
            asyncio.run(_on_postgres(args))


async def _on_postgres(args: argparse.Namespace) -> None:
    from bench import procs

    async with procs.database("postgres", Path(tempfile.gettempdir())) as url:
        await run(url, args.open, args.due, args.profile)


if __name__ == "__main__":
    main()
