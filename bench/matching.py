"""Benchmark 6, matching: classifying an alert, and the patterns that backtrack.

- classify: one alert's labels through the example policy's rules (pager's
  Classifier on RE2); baseline: the same regexes as Python `re` full matches,
  which is what the translator pager had before did.
- backtracking: `service=~"(a+)+b"` and `instance=~"([a-z0-9]+[-.]?)+:9100"`
  (issue 12, cause 7) against labels that do not match; pager on RE2 at long
  labels, beside Python `re` at short ones, whose time doubles per character.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from pathlib import Path

from bench.config import Config
from bench.stats import Row, Section, fmt, ratio, runs, verdict
from pager.core.classify import Classifier
from pager.labels import parse_matcher
from pager.policy.loader import load_policy

ROOT = Path(__file__).resolve().parents[1]
TARGET_CLASSIFY_US = 100.0
TARGET_BACKTRACK_MS = 1.0
CASES = (
    ('service=~"(a+)+b"', "service", "a"),
    ('instance=~"([a-z0-9]+[-.]?)+:9100"', "instance", "a"),
)


def _per_call(fn: Callable[[], object], count: int) -> float:
    """Seconds per call, the best of five batches."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(count):
            fn()
        best = min(best, (time.perf_counter() - started) / count)
    return best


def _classify(cfg: Config, section: Section) -> None:
    policy = load_policy(ROOT / "policies").policy
    classifier = Classifier(policy)
    labels = {"alertname": "DiskFull", "severity": "warning", "team": "web", "instance": "db-1"}
    count = cfg.count(20_000, 2_000)
    values = [_per_call(lambda: classifier.classify(labels), count) * 1e6 for _ in range(3)]
    compiled = [(m.name, m.op, re.compile(m.value)) for r in classifier.rules for m in r.matchers]
    base = (
        _per_call(
            lambda: [
                p.fullmatch(labels.get(n, ""))
                for n, op, p in compiled
                if op.startswith(("=~", "!~"))
            ],
            count,
        )
        * 1e6
    )
    median = runs(values).median
    section.add(
        Row(
            "classify one alert, example policy (µs)",
            fmt(median),
            f"{fmt(base)} (Python re, regexes only)",
            ratio(median, base),
            f"≤ {TARGET_CLASSIFY_US:.0f} µs",
            verdict(median <= TARGET_CLASSIFY_US),
            runs(values).spread,
        )
    )


def _backtracking(cfg: Config, section: Section) -> None:
    for text, name, char in CASES:
        matcher = parse_matcher(text)
        label = {name: char * 10_000 + "!"}
        check = functools.partial(matcher.matches, label)
        re2_ms = _per_call(check, cfg.count(200, 20)) * 1e3
        short = _python_re(matcher.value, char)
        doubling = (short[20] / short[16]) ** (1 / 4)
        section.add(
            Row(
                f"{text} on a 10,000-character label (ms)",
                fmt(re2_ms),
                f"{fmt(short[20] * 1e3)} ms at 20 characters (Python re), "
                f"×{doubling:.2f} per character",
                "",
                f"≤ {TARGET_BACKTRACK_MS:.0f} ms",
                verdict(re2_ms <= TARGET_BACKTRACK_MS),
            )
        )


def _python_re(regex: str, char: str) -> dict[int, float]:
    """Seconds for Python's re to refuse labels of 16, 18 and 20 characters."""
    pattern = re.compile(regex)
    found: dict[int, float] = {}
    for size in (16, 18, 20):
        value = char * size + "!"
        found[size] = _per_call(functools.partial(pattern.fullmatch, value), 1)
    return found


async def run(cfg: Config, work: Path) -> Section:
    del work
    section = Section("6. Matching: classification and backtracking patterns")
    _classify(cfg, section)
    _backtracking(cfg, section)
    section.note("baselines are the same patterns run by Python's re, as pager did before RE2")
    return section
