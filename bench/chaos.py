"""The fault suite, long form (`python -m bench --only chaos`, or `make chaos`).

The rig of tests/chaos/: `pager serve` as real processes on each database,
the in-repo FakeTwilio as a real HTTP server, kill -9 by PID, and a checker
that compares every page the policy required (one SMS per alert fired) with
what FakeTwilio took. Each run reports pages due, lost, doubled (and how many
of those Twilio could not be asked about, the one excuse), taken after their
incident's ack, and kills. The baseline is the same load with no fault at all,
measured in the same run.

The runs are the rows of issue 12's table, then the long form: random kills
every 0.2-3 s over at least 1,000 pages with a flaky Twilio, on each database,
and with three replicas on PostgreSQL. `--pager-src DIR` runs the daemons from
another tree (e.g. the code before the fix) with the same rig.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import procs
from bench.config import Config
from bench.stats import Row, Section, verdict
from tests.chaos.policy import phone
from tests.chaos.rig import Rig, Tally

Scenario = Callable[[Rig, Config], Awaitable[None]]


async def fire_paced(rig: Rig, count: int, per_second: float, critical_every: int = 0) -> None:
    """`count` alerts at a steady rate, each retried until some daemon takes it."""
    tasks = []
    for i in range(count):
        critical = bool(critical_every) and i % critical_every == 0
        tasks.append(asyncio.create_task(rig.fire(1, critical=critical, within=600)))
        await asyncio.sleep(1 / per_second)
    await asyncio.gather(*tasks)


async def kill_randomly(rig: Rig, replicas: int, stop: asyncio.Event, kills: int) -> None:
    """kill -9 a random live daemon every 0.2-3 s, and start a new one, until
    told to stop and `kills` are done."""
    while not (stop.is_set() and rig.kills >= kills):
        await asyncio.sleep(rig.random.uniform(0.2, 3.0))
        live = rig.live()
        if live:
            rig.kill(rig.random.choice(live))
        while len(rig.live()) < replicas:
            await rig.start()


async def with_kills(rig: Rig, replicas: int, load: Awaitable[None], kills: int) -> None:
    """Random kills while `load` runs, and on (while the outbox drains) until `kills`."""
    stop = asyncio.Event()
    killer = asyncio.create_task(kill_randomly(rig, replicas, stop, kills))
    try:
        await load
    finally:
        stop.set()
        await killer
    while len(rig.live()) < replicas:
        await rig.start()


# --- the runs ------------------------------------------------------------------


async def no_faults(rig: Rig, cfg: Config) -> None:
    rig.fake.latency = 0.3
    await rig.start()
    await fire_paced(rig, cfg.count(1000, 150), 25, critical_every=10)


async def one_kill_in_a_burst(rig: Rig, cfg: Config) -> None:
    """Issue row 1: one kill -9, 1 s into a burst of 60 P2 incidents, Twilio 0.3 s."""
    rig.fake.latency = 0.3
    daemon = await rig.start()
    burst = asyncio.create_task(rig.fire(60))
    await asyncio.sleep(1)
    rig.kill(daemon)
    await rig.start()
    await burst


async def slow_twilio(rig: Rig, cfg: Config) -> None:
    """Issue row 4: Twilio answering in 8 s (send timeout 5 s), 10 P1 + 10 P2."""
    rig.fake.latency = 8
    await rig.start()
    await asyncio.gather(rig.fire(10, critical=True), rig.fire(10))


async def resets_and_silence(rig: Rig, cfg: Config) -> None:
    """Issue row 5: Twilio resets each first connection, or is silent for 20 s."""
    for i in range(rig.people):
        if i % 2:
            rig.fake.reset(phone(i), created=False)
        else:
            rig.fake.hang(phone(i), 20, created=False)
    await rig.start()
    await rig.fire(4 * rig.people)


async def acks_in_flight(rig: Rig, cfg: Config) -> None:
    """Half the incidents acknowledged while their pages are being sent (Twilio 0.3 s)."""
    rig.fake.latency = 0.3
    await rig.start()
    numbers = await rig.fire(cfg.count(200, 60))
    await asyncio.gather(*(rig.ack(n) for n in numbers[::2]))


async def random_kills(rig: Rig, cfg: Config) -> None:
    """The long form: kill -9 every 0.2-3 s, a flaky Twilio (0.3 s, 5% faults)."""
    rig.fake.latency = 0.3
    rig.fake.flaky(0.05, hang=2 * rig.send_timeout)
    await rig.start()
    load = fire_paced(rig, cfg.count(1000, 150), 25, critical_every=10)
    await with_kills(rig, 1, load, kills=cfg.count(40, 10))
    rig.fake.heal()


async def three_replicas(rig: Rig, cfg: Config) -> None:
    """Issue row 3: three replicas, Twilio 0.3 s, no kill."""
    rig.fake.latency = 0.3
    for _ in range(3):
        await rig.start()
    await fire_paced(rig, cfg.count(1000, 150), 40, critical_every=10)


async def three_replicas_random_kills(rig: Rig, cfg: Config) -> None:
    rig.fake.latency = 0.3
    rig.fake.flaky(0.05, hang=2 * rig.send_timeout)
    for _ in range(3):
        await rig.start()
    load = fire_paced(rig, cfg.count(1000, 150), 40, critical_every=10)
    await with_kills(rig, 3, load, kills=cfg.count(40, 10))
    rig.fake.heal()


RUNS: tuple[tuple[str, Scenario, float, bool], ...] = (
    # name, scenario, send timeout, PostgreSQL only
    ("one kill -9 1 s into a burst of 60 P2, Twilio 0.3 s", one_kill_in_a_burst, 10, False),
    ("Twilio answering in 8 s (timeout 5 s), 10 P1 + 10 P2", slow_twilio, 5, False),
    ("Twilio resets or is silent 20 s on each first request", resets_and_silence, 10, False),
    ("acks while pages are in flight, Twilio 0.3 s", acks_in_flight, 10, False),
    ("kill -9 every 0.2-3 s, Twilio 0.3 s with 5% faults", random_kills, 5, False),
    ("3 replicas, Twilio 0.3 s, timeout 5 s, no kill", three_replicas, 5, True),
    ("3 replicas, kill -9 every 0.2-3 s, 5% faults", three_replicas_random_kills, 5, True),
)


async def _measure(
    cfg: Config, where: Path, kind: str, scenario: Scenario, send_timeout: float
) -> tuple[Tally, float]:
    async with (
        procs.database(kind, where) as url,
        Rig(where, url, send_timeout=send_timeout, pager_src=cfg.pager_src) as rig,
    ):
        began = time.perf_counter()
        await scenario(rig, cfg)
        tally = await rig.settle(within=600)
        return tally, time.perf_counter() - began


def _figures(t: Tally) -> str:
    return (
        f"due {t.due}, lost **{t.lost}**, doubled {t.doubled} ({t.excused} excused), "
        f"after-ack {t.after_ack}, kills {t.kills}"
    )


async def run(cfg: Config, work: Path) -> Section:
    section = Section("6. Fault suite: pages lost, doubled and after an ack")
    runs = iter(range(1000))

    def fresh(kind: str) -> Path:
        where = work / f"{kind}-{next(runs):03d}"
        where.mkdir()
        return where

    for kind in cfg.databases:
        base, base_s = await _measure(cfg, fresh(kind), kind, no_faults, 5)
        section.note(f"{kind} baseline (no faults): {_figures(base)} in {base_s:.0f} s")
        for name, scenario, timeout, pg_only in RUNS:
            if pg_only and kind != "postgres":
                continue
            tally, seconds = await _measure(cfg, fresh(kind), kind, scenario, timeout)
            ok = (
                tally.lost == 0
                and tally.doubled <= tally.excused
                and tally.unsettled == 0
                and tally.after_ack == 0
            )
            section.add(
                Row(
                    f"{name} ({kind})",
                    _figures(tally),
                    f"lost {base.lost}, doubled {base.doubled}",
                    "",
                    "lost 0, after-ack 0; doubled only where Twilio could not be asked",
                    verdict(ok),
                    f"1 run, settled in {seconds:.0f} s; rows {tally.states}",
                )
            )
    section.note(
        "after-ack: pages Twilio took after their incident's ack was answered; a page "
        "whose request started before the ack committed cannot be called back"
    )
    return section
