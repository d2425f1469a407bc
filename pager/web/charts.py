"""Small charts as SVG, made on the server: no chart library, no script.

Coordinates are percentages of the chart's width (so a chart fits a phone and
a desktop alike) and pixels down (so text keeps its size); colours come from
console.css classes, and a second series is also hatched, never told apart by
colour alone. Every chart carries its title and its numbers as text (role
img with an aria-label), and the page shows the same numbers in a table.
Values are escaped; nothing here reads a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

ROW = 26  # px a bar row takes
LABEL = 32.0  # percent of the width kept for a bar chart's labels
BAR = 100 - LABEL - 20  # the longest bar: room for its number after it, even on a phone


def _fmt(value: float) -> str:
    return f"{value:g}"


def columns(values: Sequence[tuple[str, int]], title: str) -> Markup:
    """Vertical bars, one per (label, value), with the value above each."""
    height, top, base = 150, 18, 128
    peak = max((v for _, v in values), default=0) or 1
    n = max(len(values), 1)
    every = 1 if n <= 8 else 2
    parts = []
    for k, (label, value) in enumerate(values):
        x, width = 100 * k / n, 100 / n
        bar = (base - top) * value / peak
        parts.append(
            f'<rect class="series-0" x="{x + width * 0.15:.3f}%" y="{base - bar:.1f}" '
            f'width="{width * 0.7:.3f}%" height="{bar:.1f}"><title>{escape(label)}: '
            f"{value}</title></rect>"
            f'<text class="value" x="{x + width / 2:.3f}%" y="{base - bar - 4:.1f}" '
            f'text-anchor="middle">{value}</text>'
        )
        if k % every == 0:
            parts.append(
                f'<text class="axis" x="{x + width / 2:.3f}%" y="{height - 6}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    said = "; ".join(f"{label}: {value}" for label, value in values)
    return _svg(
        title,
        said,
        height,
        [f'<line class="base" x1="0" x2="100%" y1="{base}" y2="{base}"/>', *parts],
    )


def bars(
    rows: Sequence[tuple[str, Sequence[float]]],
    title: str,
    series: Sequence[str],
    unit: str = "",
    floor: float = 0,
) -> Markup:
    """Horizontal bars, one row per (label, values), values stacked left to right;
    the longest bar is the largest total, or `floor` if that is larger (so 0.1 %
    of the period is not drawn as a full bar)."""
    peak = max(max((sum(v) for _, v in rows), default=0), floor) or 1
    height = ROW * max(len(rows), 1) + 22
    parts = [_legend(series)]
    for k, (label, values) in enumerate(rows):
        y = 22 + ROW * k
        parts.append(f'<text class="axis" x="0" y="{y + 15}">{escape(label)}</text>')
        x = LABEL
        for s, value in enumerate(values):
            width = BAR * value / peak
            parts.append(
                f'<rect class="series-{s}" x="{x:.3f}%" y="{y + 3}" width="{width:.3f}%" '
                f'height="{ROW - 8}"><title>{escape(label)}, {escape(series[s])}: '
                f"{_fmt(value)}{unit}</title></rect>"
            )
            x += width
        total = " + ".join(_fmt(v) for v in values) if len(values) > 1 else _fmt(values[0])
        parts.append(f'<text class="value" x="{x + 1:.3f}%" y="{y + 15}">{total}{unit}</text>')
    said = "; ".join(
        f"{label}: "
        + ", ".join(f"{_fmt(v)}{unit} {s}" for v, s in zip(values, series, strict=True))
        for label, values in rows
    )
    return _svg(title, said or "no data", height, parts)


def _said(values: Sequence[float], series: Sequence[str], unit: str) -> str:
    return ", ".join(f"{_fmt(v)}{unit} {s}" for v, s in zip(values, series, strict=True))


def _legend(series: Sequence[str]) -> str:
    if len(series) < 2:
        return ""
    items = []
    for s, name in enumerate(series):
        x = LABEL + 25 * s
        items.append(
            f'<rect class="series-{s}" x="{x}%" y="4" width="12" height="12"/>'
            f'<text class="axis" x="{x}%" dx="16" y="14">{escape(name)}</text>'
        )
    return "".join(items)


def _svg(title: str, said: str, height: int, parts: Sequence[str]) -> Markup:
    label = escape(f"{title}: {said}")
    body = "".join(parts)
    return Markup(
        f'<svg class="chart" width="100%" height="{height}" role="img" aria-label="{label}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )
