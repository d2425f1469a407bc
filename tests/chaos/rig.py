"""The fault rig: `pager serve` as real processes, FakeTwilio as a real HTTP server
in this process, kill -9 at chosen points, and a checker.

    async with Rig(workdir, db_url) as rig:
        daemon = await rig.start(failpoints="after_claim")
        await rig.fire(3)               # retried like Alertmanager while no daemon answers
        await rig.died(daemon)          # the fail point killed it
        await rig.start()
        tally = await rig.settle()
        assert (tally.lost, tally.doubled) == (0, 0)

Every incident of tests/chaos/policy.py requires exactly one SMS; the checker
counts, per alert fired, the messages FakeTwilio took (what would have reached
a phone), and reads the daemon's database for rows not settled yet.
Everything binds 127.0.0.1; every daemon is stopped (SIGTERM, then SIGKILL) by
its own PID when the rig closes.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from pager.store.db import Database
from pager.store.models import Notification
from tests.chaos.policy import PEOPLE, chaos_policy
from tests.fakes.fake_twilio import FakeTwilio
from tests.harness import API_TOKEN, WEBHOOK_TOKEN, write_policy
from tests.observability.daemon import Daemon, free_port

NAME = re.compile(r"\bChaos(\d{5})\b")
NOTIFICATION = re.compile(r"[?&]n=(\d+)")  # the row a request was for, in its StatusCallback
# Rows the engine still has to act on; anything else is settled one way or another.
OPEN_STATES = ("pending", "sending", "failed_temp", "asking")


@dataclass
class Tally:
    """What the fault run did to the pages the policy required."""

    due: int = 0  # pages the policy required (one per alert fired)
    lost: int = 0  # required, never taken by Twilio
    doubled: int = 0  # taken more than once (the copies beyond the first)
    after_ack: int = 0  # taken after their incident's ack was answered
    unsettled: int = 0  # rows still open in the database at the end
    unknown: int = 0  # rows left unknown (the provider could not be asked)
    excused: int = 0  # copies sent because Twilio could not be asked (P1 resends)
    kills: int = 0
    states: dict[str, int] = field(default_factory=dict)

    def row(self) -> str:
        return (
            f"due {self.due}, lost {self.lost}, doubled {self.doubled} "
            f"({self.excused} where Twilio could not be asked), after-ack {self.after_ack}, "
            f"kills {self.kills}, unsettled {self.unsettled}"
        )


class Rig:
    def __init__(
        self,
        workdir: Path,
        db_url: str,
        *,
        send_timeout: float = 1.0,
        people: int = PEOPLE,
        pager_src: Path | None = None,
        seed: int = 12,
    ) -> None:
        self.workdir, self.db_url, self.people = workdir, db_url, people
        self.send_timeout, self.pager_src = send_timeout, pager_src
        self.fake = FakeTwilio()
        self.daemons: list[Daemon] = []
        self.fired: dict[int, datetime | None] = {}  # alert number -> when its ack was answered
        self.kills = 0
        self.random = random.Random(seed)
        self._policies = write_policy(workdir / "policies", chaos_policy(people))
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Rig:
        await self.fake.start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for daemon in self.daemons:
            daemon.stop()
        if self._session is not None:
            await self._session.close()
        await self.fake.close()

    # --- daemons ---------------------------------------------------------------

    def env(self, port: int, failpoints: str) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("PAGER_", "TWILIO_"))}
        env = {
            **clean,
            "PAGER_DATABASE_URL": self.db_url,
            "PAGER_POLICIES": str(self._policies),
            "PAGER_LISTEN": f"127.0.0.1:{port}",
            "PAGER_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
            "PAGER_API_TOKEN": API_TOKEN,
            "PAGER_PUBLIC_URL": "https://pager.chaos.test",
            "PAGER_TICK_INTERVAL": "1",
            "PAGER_SEND_TIMEOUT": f"{self.send_timeout:g}",
            "PAGER_LOG_FORMAT": "json",
            "PAGER_FAILPOINTS": failpoints,
            "TWILIO_ACCOUNT_SID": self.fake.account_sid,
            "TWILIO_AUTH_TOKEN": self.fake.auth_token,
            "PAGER_TWILIO_FROM": "+15005550006",
            "PAGER_TWILIO_API_URL": self.fake.url,
        }
        if self.pager_src is not None:  # measure another tree's daemon (the code before a fix)
            env["PYTHONPATH"] = str(self.pager_src)
        return env

    async def start(self, failpoints: str = "") -> Daemon:
        """One more `pager serve` on the shared database, ready, or already
        dead at one of its fail points: a daemon starts by sending what the
        one before left, and on a loaded machine it may reach its fail point
        before the first /readyz poll answers."""
        port = free_port()
        log = self.workdir / f"pager-{len(self.daemons):03d}-{port}.log"
        daemon = Daemon.spawn(
            self.env(port, failpoints), log, self.workdir, f"http://127.0.0.1:{port}"
        )
        self.daemons.append(daemon)
        try:
            await daemon.wait_ready(within=60)
        except AssertionError:
            if not (failpoints and _died_at_fail_point(daemon)):
                raise
        return daemon

    def live(self) -> list[Daemon]:
        return [d for d in self.daemons if d.proc.poll() is None]

    def kill(self, daemon: Daemon) -> None:
        daemon.kill()
        self.kills += 1

    async def died(self, daemon: Daemon, within: float = 30.0) -> None:
        """Waits for a fail point to kill `daemon`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while daemon.proc.poll() is None:
            if loop.time() > deadline:
                raise AssertionError(f"the daemon did not die within {within}s: {daemon.output()}")
            await asyncio.sleep(0.05)
        daemon.kill()  # reaps it and closes its log
        self.kills += 1

    # --- load ------------------------------------------------------------------

    async def fire(self, count: int, critical: bool = False, within: float = 120.0) -> list[int]:
        """`count` new alerts, each its own incident, each retried (like
        Alertmanager) until some daemon answers 2xx."""
        numbers = [len(self.fired) + i for i in range(count)]
        for n in numbers:
            self.fired[n] = None
        await asyncio.gather(*(self._post(n, critical, within) for n in numbers))
        return numbers

    def _alert(self, n: int, critical: bool = False) -> dict[str, object]:
        labels = {"alertname": f"Chaos{n:05d}", "route": f"{n % self.people:02d}"}
        if critical:
            labels["severity"] = "critical"
        return {"summary": "chaos", "labels": labels, "dedup_key": f"chaos-{n}"}

    async def _post(self, n: int, critical: bool, within: float) -> int:
        answer = await self._deliver(
            "/api/v1/alerts", self._alert(n, critical), WEBHOOK_TOKEN, within
        )
        incidents = answer["incidents"]
        assert isinstance(incidents, list)
        return int(incidents[0])

    async def ack(self, n: int, within: float = 60.0) -> None:
        """Acknowledges alert `n`'s incident; notes when the answer came."""
        incident = await self._post(n, False, within)  # a repeat: its incident's id
        path = f"/api/v1/incidents/{incident}/ack"
        await self._deliver(path, {"by": "p00"}, API_TOKEN, within, ok=(200, 409))
        self.fired[n] = datetime.now(UTC)

    async def _deliver(
        self, path: str, body: object, token: str, within: float, ok: tuple[int, ...] = (200,)
    ) -> dict[str, object]:
        assert self._session is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        headers = {"Authorization": f"Bearer {token}"}
        while loop.time() < deadline:
            for daemon in self.random.sample(self.live(), len(self.live())):
                try:
                    async with self._session.post(
                        daemon.url + path, json=body, headers=headers
                    ) as r:
                        if r.status in ok:
                            answer: dict[str, object] = await r.json()
                            return answer
                except (aiohttp.ClientError, TimeoutError):
                    continue
            await asyncio.sleep(0.1)
        raise AssertionError(f"no daemon took {path} within {within}s")

    # --- the checker -------------------------------------------------------------

    async def open_rows(self) -> dict[str, int]:
        """Notification rows by state; `unknown` ones still to be looked up as `asking`."""
        db = Database(self.db_url)
        try:
            async with db.read() as session:
                waiting = Notification.deadline.is_not(None) & (Notification.state == "unknown")
                rows = await session.execute(
                    select(Notification.state, waiting, func.count()).group_by(
                        Notification.state, waiting
                    )
                )
                found: Counter[str] = Counter()
                for state, asking, n in rows.all():
                    found["asking" if asking else str(state)] += int(n)
                return dict(found)
        finally:
            await db.close()

    async def settle(self, within: float = 60.0) -> Tally:
        """Waits until every required page is taken and no row is open, then counts.
        Also done when no row is open and every incident has its page row: then
        nothing more will be sent (code that loses pages stops there)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            tally = await self.tally()
            rows = sum(n for state, n in tally.states.items() if state != "cancelled")
            idle = tally.unsettled == 0 and rows >= tally.due
            if (idle and tally.lost == 0) or loop.time() > deadline:
                return tally
            if idle:  # lost for good? give a slow engine a few more seconds to prove it
                await asyncio.sleep(5)
                again = await self.tally()
                if again.unsettled == 0 and again.lost == tally.lost:
                    return again
            await asyncio.sleep(0.25)

    async def resend_ids(self) -> set[int]:
        """The notification rows that are copies sent because Twilio could not be asked."""
        db = Database(self.db_url)
        try:
            async with db.read() as session:
                rows = await session.execute(
                    select(Notification.id).where(Notification.key.like("%:resend"))
                )
                return {int(i) for i in rows.scalars()}
        finally:
            await db.close()

    async def tally(self) -> Tally:
        taken: Counter[int] = Counter()
        after_ack = excused = 0
        copies = await self.resend_ids()
        for record in self.fake.sent:
            found = NAME.search(record.body or "")
            if found is None or record.via != "api":
                continue
            n = int(found.group(1))
            taken[n] += 1
            callback = NOTIFICATION.search(record.status_callback or "")
            excused += callback is not None and int(callback.group(1)) in copies
            acked = self.fired.get(n)
            if acked is not None and record.created_at is not None and record.created_at > acked:
                after_ack += 1
        states = await self.open_rows()
        required = [n for n, acked in self.fired.items() if acked is None]
        return Tally(
            due=len(required),
            lost=sum(1 for n in required if taken[n] == 0),
            doubled=sum(max(0, k - 1) for k in taken.values()),
            after_ack=after_ack,
            unsettled=sum(states.get(s, 0) for s in OPEN_STATES),
            unknown=states.get("unknown", 0),
            excused=excused,
            kills=self.kills,
            states=states,
        )


def _died_at_fail_point(daemon: Daemon) -> bool:
    return daemon.proc.poll() == -9 and "fail point" in daemon.output()
