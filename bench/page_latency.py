"""Benchmark 2, page latency: webhook 2xx -> the (fake) Twilio API receives the SMS.

pager runs with real Twilio settings, `PAGER_TWILIO_API_URL` pointing at the
recorder (bench/servers.py, its own process), on the example policy plus
probe people (bench/policies.py). A probe is one firing alert routed to a
probe person; its latency is the recorder's arrival time of the SMS naming
the probe's incident minus the time the webhook's 2xx reached the load
generator (both wall clock, one machine).

- idle: probes alone, a few runs;
- storm: probes at PROBE_RATE/s while Alertmanager webhooks bring STORM alerts
  in STORM_SECONDS (severity critical, the example's P1 rotation); halfway
  through, one new P1 for the same (by then throttled) on-call, timed from its
  2xx to the first message carrying it (bench/storm_p1.py), beside an unthrottled
  probe's p50 in the same storm. Pages per
  person during the storm are counted against the example throttle (sms 5 per
  15 minutes, voice 3), and what the throttle folded into bundles is read from
  the database afterwards.
The baseline is the bare server relaying each probe to the recorder right
after answering (no database, no engine), under the same loads.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import procs, readback
from bench.config import Config
from bench.load import Webhooks, open_loop, probe_payload
from bench.policies import PROBES, example_with_probes
from bench.stats import Row, Section, fmt, pct, ratio, runs, verdict
from bench.storm_p1 import BUNDLE_WINDOW, TARGET, NewP1, fire, wait_for_page

PROBE_RATE = 2.0  # probes/s
IDLE_SPACING = 0.25  # s between idle probes
TARGET_IDLE_MS, TARGET_STORM_MS = 100.0, 1000.0
THROTTLE = {"sms": 5, "voice": 3}  # the example policy, per 15 minutes
_INCIDENT = re.compile(r"#(\d+)\b")


@dataclass
class _Probes:
    """Probe webhooks and when each one's 2xx came back, by incident id."""

    serial: int = 0
    answered: dict[int, float] = field(default_factory=dict)

    def next(self) -> tuple[bytes, str]:
        self.serial += 1
        return probe_payload(self.serial % PROBES, self.serial), "probe"

    def on_answer(self, at: float, _body: bytes, answer: bytes) -> None:
        for incident in json.loads(answer).get("incidents", []):
            self.answered[int(incident)] = at


def _latencies(probes: _Probes, records: list[dict[str, Any]]) -> list[float]:
    """Seconds from each probe's 2xx to the first SMS naming its incident."""
    first: dict[int, float] = {}
    for r in records:
        match = _INCIDENT.search(r["body"])
        if r["kind"] == "sms" and match and "more incident" not in r["body"]:
            first.setdefault(int(match[1]), r["t"])
    return [first[i] - t for i, t in probes.answered.items() if i in first]


async def _idle(port: int, cfg: Config, recorder: str) -> list[list[float]]:
    per_run: list[list[float]] = []
    serial = 0  # probes never repeat a group: each opens its own incident
    for _ in range(cfg.count(3, 2)):
        probes = _Probes(serial)
        count = cfg.count(40, 15)
        await open_loop(
            port, 1 / IDLE_SPACING, count * IDLE_SPACING, probes.next, on_answer=probes.on_answer
        )
        await asyncio.sleep(1.0)  # let the last page arrive
        per_run.append(_latencies(probes, await procs.records(recorder)))
        serial = probes.serial
    return per_run


@dataclass
class _Storm:
    latencies: list[float]
    records: list[dict[str, Any]]
    probes_sent: int
    storm_alerts: int
    storm_statuses: dict[int, int]
    new_p1: NewP1 | None = None


async def _storm(port: int, cfg: Config, recorder: str) -> _Storm:
    seconds = cfg.pick(60, 15)
    alerts = cfg.count(10_000, 2_500)
    hooks, probes = Webhooks(seed=2, tag="s"), _Probes()
    storm, _, new_p1 = await asyncio.gather(
        open_loop(port, alerts / 10 / seconds, seconds, hooks.next),
        open_loop(port, PROBE_RATE, seconds, probes.next, on_answer=probes.on_answer),
        fire(port, seconds / 2),
    )
    await asyncio.sleep(cfg.pick(15, 5))  # pages still due (voice after 1m) and stragglers
    found = await procs.records(recorder)
    latencies = _latencies(probes, found)
    return _Storm(latencies, found, probes.serial, storm.alerts, storm.statuses, new_p1)


async def run(cfg: Config, work: Path) -> Section:
    section = Section("2. Page latency: webhook 2xx -> SMS request at the fake Twilio")
    policies = example_with_probes(work)
    results: dict[str, tuple[list[list[float]], _Storm]] = {}
    for kind in ("baseline", *cfg.databases):
        results[kind] = await _one(kind, cfg, work, policies, section)
    base_idle, base_storm = results.pop("baseline")
    for kind, (idle, storm) in results.items():
        _report(section, kind, idle, storm, base_idle, base_storm)
    return section


async def _one(
    kind: str, cfg: Config, work: Path, policies: Path, section: Section
) -> tuple[list[list[float]], _Storm]:
    """Idle runs then a storm, each phase on a fresh daemon and database."""
    out: list[Any] = []
    for phase in (_idle, _storm):
        with procs.recorder(work) as rec:
            await rec.wait_ready("/records")
            async with procs.database(kind if kind != "baseline" else "sqlite", work) as url:
                daemon = (
                    procs.baseline(work, relay=rec.url + "/relay")
                    if kind == "baseline"
                    else procs.pager(work, url, policies, twilio_url=rec.url)
                )
                with daemon:
                    await daemon.wait_ready()
                    result = await phase(daemon.port, cfg, rec.url)
                    if kind != "baseline" and isinstance(result, _Storm):
                        if result.new_p1 is not None:
                            await wait_for_page(result.new_p1, url, rec.url)
                            result.records = await procs.records(rec.url)
                        await _throttle_notes(section, kind, url, result)
                out.append(result)
    return out[0], out[1]


def _report(
    section: Section,
    kind: str,
    idle: list[list[float]],
    storm: _Storm,
    base_idle: list[list[float]],
    base_storm: _Storm,
) -> None:
    ms: Callable[[list[float], float], float] = lambda xs, p: pct(xs, p) * 1000  # noqa: E731
    p99 = runs([ms(r, 99) for r in idle])
    b99 = runs([ms(r, 99) for r in base_idle])
    p50 = runs([ms(r, 50) for r in idle])
    section.add(
        Row(
            f"{kind}: idle p99, ms (p50 {fmt(p50.median)}; {sum(map(len, idle))} probes)",
            fmt(p99.median),
            fmt(b99.median),
            ratio(p99.median, b99.median),
            f"≤ {TARGET_IDLE_MS:g} ms",
            verdict(p99.median <= TARGET_IDLE_MS),
            p99.spread,
        )
    )
    s99, sb99 = ms(storm.latencies, 99), ms(base_storm.latencies, 99)
    lost = storm.probes_sent - len(storm.latencies)
    section.add(
        Row(
            f"{kind}: storm p99, ms (p50 {fmt(ms(storm.latencies, 50))}, max "
            f"{fmt(ms(storm.latencies, 100))}; {len(storm.latencies)} probes, {lost} unpaged)",
            fmt(s99),
            fmt(sb99),
            ratio(s99, sb99),
            f"≤ {TARGET_STORM_MS:g} ms",
            verdict(s99 <= TARGET_STORM_MS and lost == 0),
            "1 storm run",
        )
    )
    _report_new_p1(section, kind, storm)


def _report_new_p1(section: Section, kind: str, storm: _Storm) -> None:
    p1, probe_p50 = storm.new_p1, pct(storm.latencies, 50)
    seconds = float("nan") if p1 is None else p1.seconds
    section.add(
        Row(
            f"{kind}: new P1 mid-storm -> first page, s (baseline: an unthrottled probe's p50 "
            f"in the same storm; carried by {p1.how if p1 else 'nothing: not taken'})",
            fmt(seconds),
            fmt(probe_p50),
            ratio(seconds, probe_p50),
            f"≤ {TARGET:g} s (bundle window + 10 s)",
            verdict(seconds <= TARGET),
            "1 storm run",
        )
    )


async def _throttle_notes(section: Section, kind: str, url: str, storm: _Storm) -> None:
    """Pages per person in the storm (by kind, from the database) against the throttle."""
    rows = await readback.notifications(
        url, "id", "person_id", "channel", "kind", "state", "bundle_of"
    )
    by_id = {r.id: r for r in rows}
    sent: Counter[tuple[str, str, str]] = Counter()
    for rec in storm.records:
        row = by_id.get(rec["n"])
        if row is not None and not row.person_id.startswith("probe"):
            sent[(row.person_id, row.channel, row.kind)] += 1
    throttled = sum(1 for r in rows if r.state == "throttled")
    bundles = [r for r in rows if r.kind == "bundle" and r.state == "pending"]
    folded = sum(len(_list(r.bundle_of)) for r in bundles)
    # Pages beyond the limit, or bundles beyond one per bundle window (the design's
    # allowance over the limits), are over the throttle.
    times = [float(r["t"]) for r in storm.records] or [0.0]
    allowance = 1 + int((max(times) - min(times)) // BUNDLE_WINDOW)
    over = [
        f"{p} {c} {k}: {n}"
        for (p, c, k), n in sorted(sent.items())
        if (k == "page" and n > THROTTLE.get(c, 0)) or (k == "bundle" and n > allowance)
    ]
    listing = ", ".join(f"{p} {c} {k}: {n}" for (p, c, k), n in sorted(sent.items()))
    section.note(
        f"{kind} storm: {storm.storm_alerts} storm alerts answered 2xx "
        f"(statuses {storm.storm_statuses}); sent to people during storm+drain: "
        f"{listing or 'none'}; "
        f"over the throttle (pages over its limit, bundles over one per bundle window): "
        f"{', '.join(over) or 'none'}; {throttled} pages throttled into "
        f"{len(bundles)} pending bundles listing {folded} incidents (each due within the "
        "bundle window)"
    )


def _list(value: Any) -> list[Any]:
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, list) else []
    return list(value or [])
