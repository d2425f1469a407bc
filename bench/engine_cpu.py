"""The engine alone, in-process: how fast it escalates and sends, and where its time goes.

`python -m bench.engine_cpu [--open N] [--due N] [--db sqlite|postgres] [--spread S]
[--profile FILE]`

Seeds `open` incidents (bench/seed.py), `due` of them due now and the rest an
hour later, then runs the engine with a FakeClock and an instant notifier
until every due incident is paged: no HTTP, no provider latency, so the
figure is the engine's own cost per page (escalate, claim, start, record).
With `--spread S` the due timers fall due evenly over S seconds of the real
clock and the engine runs as in the daemon (`Engine.run_forever`: wake-ups,
next-due queries), which adds what each wake-up costs and prints the
lateness of each page (the notifier's arrival time - its timer's due time),
as bench/escalation.py does without HTTP.
Prints pages/s and statements per page (ENGINE_CPU_STATEMENTS=1: which ones,
"(many)" for an executemany, and per page the transactions begun, committed and
rolled back and the pool checkouts, each a round trip or more on PostgreSQL
that the statement count leaves out; on SQLite also the calls queued for
aiosqlite's connection threads, each a hand-off to a thread and back: see
pager/store/sqlite_driver.py); `--profile` writes a cProfile dump
(`python -m pstats FILE`). Used to find the hot spots; the daemon benchmark
(bench/escalation.py) is the one whose figures are the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.policies import timers
from bench.seed import seed_timers
from pager.clock import Clock, FakeClock, SystemClock
from pager.core.outcome import Outcome
from pager.engine.engine import Engine
from pager.engine.policy_runtime import PolicyRuntime
from pager.metrics import ENGINE_STEPS, Metrics
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
    """A notifier that accepts everything at once, noting when each page came."""

    def __init__(self, want: int) -> None:
        self.sent, self.want = 0, want
        self.at: dict[int, float] = {}  # incident id -> time.time() of its first page
        self.done = asyncio.Event()  # `want` sent

    async def send(self, message: Message) -> SendResult:
        self.sent += 1
        if self.sent >= self.want:
            self.done.set()
        if message.incident_id is not None:
            self.at.setdefault(message.incident_id, time.time())
        return SendResult(Outcome.ACCEPTED, provider_id=f"SM{message.notification_id:030d}")

    async def find_sent(self, message: Message, since: datetime) -> list[str]:
        return []

    async def close(self) -> None:
        return None


class Counter:
    """Statements by kind, and the round trips the statement count leaves out
    (asyncpg sends BEGIN, COMMIT and the pool's ping itself)."""

    def __init__(self, db: Database) -> None:
        self.statements = 0
        self.kinds: dict[str, int] = {}
        sync_engine = db.engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._statement)
        for name in ("begin", "commit", "rollback"):
            event.listen(sync_engine, name, self._tally(f"[{name}]"))
        event.listen(sync_engine.pool, "checkout", self._tally("[pool checkout]"))

    def _statement(self, *args: Any) -> None:
        self.statements += 1
        what = " ".join(str(args[2]).split()[:4])[:60] + (" (many)" if args[5] else "")
        self.kinds[what] = self.kinds.get(what, 0) + 1

    def _tally(self, what: str) -> Callable[..., None]:
        def counted(*_: Any) -> None:
            self.kinds[what] = self.kinds.get(what, 0) + 1

        return counted

    def print(self, pages: int) -> None:
        for what, n in sorted(self.kinds.items(), key=lambda kv: -kv[1])[:40]:
            print(f"  {n / pages:6.2f}  {what}")


async def run(url: str, open_: int, due: int, spread: float, profile: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        policy = timers(Path(tmp), PEOPLE)
        # spread: seeding and start-up first, then the timers fall due in real time
        lead = 5 + open_ / 10_000 * 2 if spread else 60
        start = time.time() + lead
        at = [start + spread * i / due for i in range(due)] + [start + 3600] * (open_ - due)
        await seed_timers(url, policy, at, PEOPLE)
        db = Database(url)
        trips = count_trips(db) if db.is_sqlite else None
        clock: Clock = SystemClock() if spread else FakeClock(_utc(start + 1))
        policies = PolicyRuntime(policy, db, clock)
        await policies.reload()
        notifier = Instant(due)
        metrics = Metrics(tuple(policies.active.policy.priorities))
        engine = Engine(db, clock, policies, notifier, metrics)
        counter = Counter(db)
        prof = cProfile.Profile() if profile else None
        trips0 = trips[0] if trips else 0
        t0, cpu0 = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        if spread:
            await _as_the_daemon(engine, notifier, at[due - 1] + 60 - time.time())
        else:
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
            f"{counter.statements / due:.1f} statements per page"
            + (f", {(trips[0] - trips0) / due:.1f} trips to the SQLite thread" if trips else "")
        )
        if spread:
            late = sorted(notifier.at[i + 1] - at[i] for i in range(due) if i + 1 in notifier.at)
            print(
                f"  {due / spread:.0f} timers/s over {spread:g} s, {due - len(late)} never paged; "
                f"lateness p50 {_pct(late, 50) * 1000:.1f} ms, p99 {_pct(late, 99) * 1000:.1f} ms,"
                f" max {_pct(late, 100) * 1000:.1f} ms"
            )
        if os.environ.get("ENGINE_CPU_STATEMENTS"):
            counter.print(due)
            _where(metrics)
        await db.close()


async def _as_the_daemon(engine: Engine, notifier: Instant, within: float) -> None:
    """The engine's own runner (wake-ups, next-due queries) until every due timer paged."""
    task = asyncio.create_task(engine.run_forever())
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(notifier.done.wait(), timeout=within)
    await engine.stop(task)


def _where(metrics: Metrics) -> None:
    """Where the wall time went: each step's runs, and how late escalations were."""
    sample = metrics.registry.get_sample_value
    for step in ENGINE_STEPS:
        runs = sample("pager_engine_step_duration_seconds_count", {"step": step}) or 0
        took = sample("pager_engine_step_duration_seconds_sum", {"step": step}) or 0
        print(f"  step {step}: {runs:.0f} runs, {took:.2f} s")
    count = sample("pager_escalation_lateness_seconds_count") or 0
    late = sample("pager_escalation_lateness_seconds_sum") or 0
    print(f"  escalation lateness (due -> escalated): mean {late / max(count, 1) * 1000:.1f} ms")


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_cpu")
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--spread",
        type=float,
        default=0.0,
        help="the due timers fall due evenly over this many seconds of the real clock, "
        "and the engine runs as the daemon runs it (run_forever); default: all due at "
        "once, on a fake clock, tick() by tick()",
    )
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp}/engine.db"
            asyncio.run(run(url, args.open, args.due, args.spread, args.profile))
        else:
            asyncio.run(_on_postgres(args))


async def _on_postgres(args: argparse.Namespace) -> None:
    from bench import procs

    async with procs.database("postgres", Path(tempfile.gettempdir())) as url:
        await run(url, args.open, args.due, args.spread, args.profile)


if __name__ == "__main__":
    main()
