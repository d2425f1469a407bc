"""`pager drill`: a game day through the running daemon, and its report."""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any

import click

from pager.commands.remote import api, call
from pager.tables import table


@click.command()
@click.option("--priority", help="Priority to drill (default P1).")
@click.option("--policy", "escalation", help="Escalation policy (default: the default's).")
@click.option("--rotation", help="Page only this rotation's on-call person.")
@click.option(
    "--wait",
    default=900,
    show_default=True,
    help="Seconds to wait for an acknowledgement (0: start and return).",
)
def drill(priority: str | None, escalation: str | None, rotation: str | None, wait: int) -> None:
    """A game day: a synthetic incident marked DRILL, paged for real through the daemon."""
    client = api()
    started = call(
        lambda: client.post(
            "/api/v1/drills",
            {
                "priority": priority,
                "policy": escalation,
                "rotation": rotation,
                "by": os.environ.get("USER"),
            },
        )
    )
    ident = started["id"]
    click.echo(f"drill #{ident} started; waiting up to {wait}s for an acknowledgement")
    deadline = time.monotonic() + wait
    incident = call(lambda: client.get(f"/api/v1/incidents/{ident}"))
    while incident["state"] == "triggered" and time.monotonic() < deadline:
        time.sleep(2)
        incident = call(lambda: client.get(f"/api/v1/incidents/{ident}"))
    click.echo(drill_report(incident))


def drill_report(incident: dict[str, Any]) -> str:
    pages = [
        (n["person"], n["channel"], n["state"], (n["sent_at"] or "-")[:19])
        for n in incident["notifications"]
        if n["kind"] in ("page", "bundle")
    ]
    lines = [f"drill #{incident['id']} ({incident['priority']}): {incident['state']}"]
    lines.append(
        table(("person", "channel", "outcome", "sent"), pages) if pages else "nobody was paged"
    )
    if incident["acked_at"]:
        opened = datetime.fromisoformat(incident["created_at"])
        acked = datetime.fromisoformat(incident["acked_at"])
        lines.append(
            f"acknowledged by {incident['acked_by'] or '?'} after "
            f"{int((acked - opened).total_seconds())}s"
        )
    else:
        lines.append("not acknowledged")
    return "\n".join(lines)
