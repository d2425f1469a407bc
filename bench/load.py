"""Alertmanager-shaped load: payloads, a lean HTTP client, closed and open loops.

`Webhooks` yields the same deterministic sequence for every target, so pager
and its baseline get identical bodies: each webhook is one Alertmanager group
with 10 alerts; 40% open a new group, 40% repeat an open group's alerts
(firing again), 20% resolve an open group (all its alerts resolved).

The client writes pre-built HTTP/1.1 requests on kept-alive connections and
reads just the status and body: cheaper per request than aiohttp's client, so
the load generator is less likely to be the bottleneck (each loop reports its
own CPU use so a reader can tell).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.procs import WEBHOOK_TOKEN

PATH = "/api/v1/alerts/alertmanager"
ALERTS_PER_HOOK = 10


@dataclass
class _Group:
    key: str
    labels: list[dict[str, str]]


@dataclass
class Webhooks:
    """An endless, seeded sequence of (body, alert count, kind) webhooks."""

    seed: int = 1
    tag: str = "g"
    severity: str = "critical"
    _rng: random.Random = field(init=False)
    _open: list[_Group] = field(default_factory=list)
    _count: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def __iter__(self) -> Iterator[tuple[bytes, str]]:
        while True:
            yield self.next()

    def next(self) -> tuple[bytes, str]:
        roll = self._rng.random()
        if not self._open or roll < 0.4 or len(self._open) < 5:
            return self._new(), "new"
        group = self._open[self._rng.randrange(len(self._open))]
        if roll < 0.8:
            return _body(group, "firing"), "repeat"
        self._open.remove(group)
        return _body(group, "resolved"), "resolved"

    def _new(self) -> bytes:
        self._count += 1
        name = f"{self.tag}{self._count}"
        labels = [
            {
                "alertname": "BenchHighErrorRate",
                "group": name,
                "service": f"svc-{self._count % 50}",
                "instance": f"10.0.{i}.{self._count % 250}:9100",
                "severity": self.severity,
                "job": "bench",
            }
            for i in range(ALERTS_PER_HOOK)
        ]
        group = _Group(f'{{}}:{{alertname="BenchHighErrorRate", group="{name}"}}', labels)
        self._open.append(group)
        return _body(group, "firing")


def _body(group: _Group, status: str) -> bytes:
    alerts = [_alert(labels, status) for labels in group.labels]
    return am_payload(group.key, alerts, status)


def _alert(labels: dict[str, str], status: str) -> dict[str, Any]:
    digest = hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[:16]
    return {
        "status": status,
        "labels": labels,
        "annotations": {
            "summary": f"error rate above 5% on {labels['instance']}",
            "description": "5xx responses over total, 5m window",
            "runbook_url": "https://runbooks.example.com/bench",
        },
        "startsAt": "2026-01-05T09:00:00.123456789Z",
        "endsAt": "2026-01-05T09:10:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": digest,
    }


def am_payload(group_key: str, alerts: list[dict[str, Any]], status: str) -> bytes:
    common = alerts[0]["labels"] if alerts else {}
    body = {
        "version": "4",
        "status": status,
        "receiver": "pager",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "groupLabels": {"alertname": common.get("alertname", "")},
        "commonLabels": {k: v for k, v in common.items() if k != "instance"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }
    return json.dumps(body).encode()


def probe_payload(person: int, serial: int) -> bytes:
    """One firing alert routed to probe person `person` (see bench/policies.py)."""
    labels = {
        "alertname": "BenchProbe",
        "bench_probe": str(person),
        "serial": str(serial),
        "instance": "probe:9100",
    }
    alert = _alert(labels, "firing")
    return am_payload(f'{{}}:{{bench_probe="{person}", serial="{serial}"}}', [alert], "firing")


class Client:
    """One kept-alive HTTP/1.1 connection posting webhooks to 127.0.0.1:`port`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {WEBHOOK_TOKEN}\r\nContent-Type: application/json\r\n"
        ).encode()
        self._conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        reused = self._conn is not None
        if self._conn is None:
            self._conn = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self._conn
        writer.write(self._head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            # The server closed this kept-alive connection while it sat idle (its
            # keep-alive timeout) before reading the request: nothing was answered,
            # so send it again, once, on a new connection.
            await self.close()
            partial = exc.partial if isinstance(exc, asyncio.IncompleteReadError) else b""
            if not reused or partial:
                raise
            return await self.post(body)
        status = int(head[9:12])
        length, close = 0, False
        for line in head.lower().split(b"\r\n")[1:]:
            if line.startswith(b"content-length:"):
                length = int(line[15:])
            elif line.startswith(b"connection:") and b"close" in line:
                close = True
        data = await reader.readexactly(length)
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self._conn is not None:
            self._conn[1].close()
            self._conn = None


@dataclass
class Result:
    """What one loop measured: latencies in seconds, counts, load generator CPU."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    alerts: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    cpu: float = 0.0  # load generator CPU seconds / wall seconds
    overloaded: int = 0  # open loop: sends that found every connection busy

    @property
    def alerts_per_s(self) -> float:
        return self.alerts / self.seconds if self.seconds else 0.0

    def count(self, status: int, latency: float, alerts: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            self.latencies.append(latency)
            self.alerts += alerts
        else:
            self.errors += 1


Next = Callable[[], tuple[bytes, str]]


async def closed_loop(ports: list[int], source: Next, seconds: float, workers: int) -> Result:
    """`workers` connections post back to back for `seconds`, round-robin over `ports`."""
    result = Result(seconds)
    cpu0, start = time.process_time(), time.perf_counter()
    stop = start + seconds

    async def worker(i: int) -> None:
        client = Client(ports[i % len(ports)])
        try:
            while time.perf_counter() < stop:
                body, _ = source()
                t0 = time.perf_counter()
                status, _ = await client.post(body)
                result.count(status, time.perf_counter() - t0, ALERTS_PER_HOOK)
        finally:
            await client.close()

    await asyncio.gather(*(worker(i) for i in range(workers)))
    result.seconds = time.perf_counter() - start
    result.cpu = (time.process_time() - cpu0) / result.seconds
    return result


OnAnswer = Callable[[float, bytes, bytes], None]


async def open_loop(
    port: int,
    rate: float,
    seconds: float,
    source: Next,
    *,
    connections: int = 64,
    on_answer: OnAnswer | None = None,
) -> Result:
    """Send at a fixed `rate` (webhooks/s) for `seconds`, whatever the answers' pace.

    A latency counts from the *scheduled* send time, so a stalled server shows
    up as latency instead of silently slowing the load (coordinated omission).
    `on_answer(time.time() at the 2xx, body sent, body answered)` sees every 2xx.
    """
    result = Result(seconds)
    pool: asyncio.Queue[Client] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Client(port))
    tasks: list[asyncio.Task[None]] = []
    cpu0, start = time.process_time(), time.perf_counter()

    async def send(at: float, body: bytes, alerts: int) -> None:
        if pool.empty():
            result.overloaded += 1
        client = await pool.get()
        try:
            status, answer = await client.post(body)
        finally:
            pool.put_nowait(client)
        result.count(status, time.perf_counter() - at, alerts)
        if on_answer is not None and 200 <= status < 300:
            on_answer(time.time(), body, answer)

    total = int(rate * seconds)
    for i in range(total):
        at = start + i / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        body, kind = source()
        alerts = 1 if kind == "probe" else ALERTS_PER_HOOK
        tasks.append(asyncio.create_task(send(at, body, alerts)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    result.seconds = time.perf_counter() - start
    result.cpu = (time.process_time() - cpu0) / result.seconds
    while not pool.empty():
        await pool.get_nowait().close()
    return result
