"""Percentiles, run summaries and the report rows the benchmarks print.

A figure is summarised over several runs as the median of the per-run values,
with the spread (min..max across runs) beside it, so one lucky or unlucky run
cannot decide whether a target is met.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100), linear between closest ranks; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Runs:
    """One figure over several runs."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def spread(self) -> str:
        if len(self.values) < 2:
            return "1 run"
        lo, hi = min(self.values), max(self.values)
        rel = (hi - lo) / self.median * 100 if self.median else 0.0
        return f"{fmt(lo)}..{fmt(hi)} (±{rel / 2:.0f}%, n={len(self.values)})"


def runs(values: Sequence[float]) -> Runs:
    return Runs(tuple(values))


def fmt(value: float) -> str:
    if value != value:  # nan
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


@dataclass
class Row:
    """One line of a benchmark's table."""

    metric: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""
    spread: str = ""


@dataclass
class Section:
    """A benchmark's result: its table and notes, printed as Markdown."""

    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(
            f"  {row.metric}: {row.value}  baseline {row.baseline or '-'}  "
            f"ratio {row.ratio or '-'}  {row.met}",
            flush=True,
        )

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def markdown(self) -> str:
        head = "| metric | pager | baseline | ratio | target | met | spread over runs |"
        lines = [f"### {self.title}", "", head, "|---|---|---|---|---|---|---|"]
        for r in self.rows:
            cells = (r.metric, r.value, r.baseline, r.ratio, r.target, r.met, r.spread)
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", *(f"- {n}" for n in self.notes), ""]
        return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def ratio(value: float, base: float) -> str:
    return fmt(value / base) if base else "n/a"
