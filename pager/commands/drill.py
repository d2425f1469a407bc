"""`pager drill`: a game day through the running daemon, and its report.

The daemon ends the drill (see pager.core.drills): at its first answer, or
unanswered at the `--wait` deadline. The command follows it until it ends,
unless `--detach`, and then reports who was reached and how fast.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import click

from pager.commands.client import Client
from pager.commands.remote import api, by_option, call, echo_json, json_option
from pager.commands.tables import table
from pager.core.vocabulary import PAGE_KINDS, IncidentState

POLL_SECONDS = 1.0
GRACE_SECONDS = 15.0  # past the deadline, the daemon's engine has surely ended it


@click.command()
@click.option("--priority", help="Priority to drill (default P1).")
@click.option("--policy", "escalation", help="Escalation policy (default: the default's).")
@click.option("--rotation", help="Page only this rotation's on-call person.")
@click.option(
    "--wait",
    type=click.IntRange(1, 86400),
    default=900,
    show_default=True,
    help="Seconds the drill waits for an acknowledgement; then it ends unanswered.",
)
@click.option("--detach", is_flag=True, help="Start the drill and return (it still ends).")
@by_option
@json_option
def drill(
    priority: str | None,
    escalation: str | None,
    rotation: str | None,
    wait: int,
    detach: bool,
    by: str | None,
    as_json: bool,
) -> None:
    """A game day: a synthetic incident marked DRILL, paged for real through the daemon."""
    client = api()
    body = {"priority": priority, "policy": escalation, "rotation": rotation, "by": by}
    started = call(lambda: client.post("/api/v1/drills", {**body, "wait": wait}))
    ident = started["id"]
    if as_json and detach:
        echo_json(started)
        return
    if detach:
        click.echo(f"drill #{ident} started; unanswered, it ends after {wait}s")
        return
    if not as_json:
        click.echo(f"drill #{ident} started; waiting up to {wait}s for an acknowledgement")
    incident = _follow(client, ident, time.monotonic() + wait + GRACE_SECONDS)
    if as_json:
        echo_json(incident)
    else:
        click.echo(drill_report(incident))


def _follow(client: Client, ident: int, until: float) -> dict[str, Any]:
    """The drill's incident once it has ended (or at `until`, as it is then)."""
    while True:
        incident: dict[str, Any] = call(lambda: client.get(f"/api/v1/incidents/{ident}"))
        if incident["state"] == IncidentState.RESOLVED or time.monotonic() >= until:
            return incident
        time.sleep(POLL_SECONDS)


def drill_report(incident: dict[str, Any]) -> str:
    pages = [
        (n["person"], n["channel"], n["state"], (n["sent_at"] or "-")[:19])
        for n in incident["notifications"]
        if n["kind"] in PAGE_KINDS
    ]
    outcome = incident["drill_outcome"] or incident["state"]
    lines = [f"drill #{incident['id']} ({incident['priority']}): {outcome}"]
    lines.append(
        table(("person", "channel", "outcome", "sent"), pages) if pages else "nobody was paged"
    )
    opened = datetime.fromisoformat(incident["created_at"])
    if incident["acked_at"]:
        acked = datetime.fromisoformat(incident["acked_at"])
        lines.append(
            f"acknowledged by {incident['acked_by'] or '?'} after "
            f"{int((acked - opened).total_seconds())}s"
        )
    elif outcome == "unanswered":
        ended = datetime.fromisoformat(incident["resolved_at"])
        lines.append(f"nobody acknowledged within {int((ended - opened).total_seconds())}s")
    else:
        lines.append("not acknowledged yet")
    return "\n".join(lines)
