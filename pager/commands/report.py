"""`pager report [--since 30d] [--json]`: on-call health, asked of the running daemon."""

from __future__ import annotations

from typing import Any

import click

from pager.commands.remote import api, call, echo_json, json_option
from pager.commands.tables import table


def seconds(value: float | None) -> str:
    """`42s`, `7m30s`, `2h05m`, `3d4h`: a duration for a table."""
    if value is None:
        return "-"
    s = round(value)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600}h"


@click.command()
@click.option(
    "--since", default="30d", show_default=True, help="A duration back (30d, 2w) or an ISO time."
)
@json_option
def report(since: str, as_json: bool) -> None:
    """On-call health: MTTA/MTTR, incidents per week, pages per person (and out of
    their working hours), noise candidates, the noisiest rules, time on incidents."""
    data = call(lambda: api().get("/api/v1/report", since=since))
    if as_json:
        echo_json(data)
        return
    click.echo(_text(data))


def _text(d: dict[str, Any]) -> str:
    out = [
        f"On-call health from {d['since'][:16].replace('T', ' ')} to "
        f"{d['until'][:16].replace('T', ' ')} UTC: {d['incidents']} incidents"
        + (f" ({d['in_maintenance']} in maintenance)" if d["in_maintenance"] else ""),
        "",
        table(
            ("priority", "incidents", "MTTA median", "MTTA p90", "MTTR median", "MTTR p90"),
            [
                (
                    p["priority"],
                    str(p["incidents"]),
                    seconds(p["mtta"]["median_seconds"]),
                    seconds(p["mtta"]["p90_seconds"]),
                    seconds(p["mttr"]["median_seconds"]),
                    seconds(p["mttr"]["p90_seconds"]),
                )
                for p in d["priorities"]
            ],
        ),
        "",
        table(("week of", "incidents"), [(w["start"], str(w["incidents"])) for w in d["weeks"]]),
        "",
        table(
            ("person", "pages", "out of hours", "time on incidents"),
            [
                (
                    p["person"],
                    str(p["pages"]),
                    str(p["out_of_hours"]),
                    f"{seconds(p['incident_seconds'])} ({100 * p['incident_share']:.1f}%)",
                )
                for p in d["people"]
            ],
        ),
    ]
    out += ["", f"Noise candidates (resolved before anyone acknowledged): {len(d['noise'])}"]
    out += [
        f"  #{n['id']} {n['priority']} {n['title']} ({seconds(n['lasted_seconds'])})"
        for n in d["noise"]
    ]
    if d["rules"]:
        rows = [
            (r["rule"], str(r["incidents"]), str(r["noise"]), str(r["pages"])) for r in d["rules"]
        ]
        out += ["", table(("rule", "incidents", "noise", "pages"), rows)]
    return "\n".join(out)


COMMANDS = (report,)
