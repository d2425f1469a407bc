"""`pager oncall`, `priorities` and `explain`: who is paged, and why, asked of the
running daemon (no side effect)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from pager.commands.remote import api, call
from pager.commands.tables import table


@click.command()
@click.option("--at", help="ISO-8601 instant (default: now).")
@click.option("--rotation", help="Only this rotation.")
def oncall(at: str | None, rotation: str | None) -> None:
    """Who is on call, per rotation and escalation level (asks the running daemon).

    Times are UTC, with the rotation's own local time beside them."""
    data = call(lambda: api().get("/api/v1/oncall", at=at, rotation=rotation))
    click.echo(f"On call at {when(data['at'])}\n")
    rows = [
        (
            r["rotation"],
            r["timezone"],
            r["person"] or "NOBODY",
            when(r["since"], r["timezone"]),
            when(r["until"], r["timezone"]),
            r["next_person"] or "-",
            f"instead of {r['scheduled'] or 'nobody'}" if r["override"] else "-",
        )
        for r in data["rotations"]
    ]
    header = ("rotation", "zone", "on call", "since", "until", "next", "override")
    click.echo(table(header, rows))
    if rotation is None:
        click.echo("")
        levels = [
            (
                e["escalation"],
                str(lv["level"]),
                ", ".join(lv["targets"]),
                ", ".join(lv["people"]) or "NOBODY",
            )
            for e in data["escalation_policies"]
            for lv in e["levels"]
        ]
        click.echo(table(("escalation", "level", "targets", "reaches now"), levels))


def when(value: str, zone: str | None = None) -> str:
    """`2026-03-30 08:00 UTC (Mon 09:00 BST)`: UTC, and the local time in `zone`."""
    instant = datetime.fromisoformat(value).astimezone(UTC)
    text = instant.strftime("%Y-%m-%d %H:%M UTC")
    try:
        local = instant.astimezone(ZoneInfo(zone)) if zone else None
    except (ZoneInfoNotFoundError, ValueError):
        local = None
    return f"{text} ({local.strftime('%a %H:%M %Z')})" if local else text


@click.command()
def priorities() -> None:
    """What each priority means, what leads to it, and whom it pages now."""
    data = call(lambda: api().get("/api/v1/priorities"))
    for p in data["priorities"]:
        hours = (
            p["hours"]
            if p["hours"] == "always"
            else (
                f"{p['hours']['days']} {p['hours']['from']}-{p['hours']['to']} "
                f"{p['hours']['timezone']}"
            )
        )
        click.echo(f"{p['priority']}: {p['description'] or '(no description)'}")
        click.echo(f"  channels: {', '.join(p['channels'])}; hours: {hours}")
        if p["upgrade"]:
            click.echo(f"  upgraded to {p['upgrade']['to']} after {p['upgrade']['after']}")
        if p["ack_expires"]:
            click.echo(f"  an acknowledgement expires after {p['ack_expires']}")
        click.echo(f"  rules: {'; '.join(p['rules']) or 'none'}")
        for e in p["escalations"]:
            click.echo(f"  escalation {e['escalation']} (repeat {e['repeat']}):")
            click.echo(_indent(_levels(e["levels"], "reaches_now")))
        click.echo("")


@click.command()
@click.argument("labels", nargs=-1, required=True)
def explain(labels: tuple[str, ...]) -> None:
    """Which rule LABEL=VALUE ... matches, and whom it would page now (no side effect)."""
    pairs = {}
    for label in labels:
        name, sep, value = label.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{label!r} is not LABEL=VALUE")
        pairs[name] = value
    data = call(lambda: api().post("/api/v1/explain", {"labels": pairs}))
    click.echo(f"rule:       {data['rule']}")
    click.echo(f"priority:   {data['priority']}  {data['description']}")
    click.echo(f"channels:   {', '.join(data['channels'])}")
    click.echo(f"escalation: {data['escalation']}")
    if data["heartbeat"]:
        click.echo("heartbeat:  yes (a ping, not an incident)")
    click.echo(f"hours:      {data['hours']}")
    if data["held_until"]:
        opens = when(data["held_until"], data["hours"].rsplit(" ", 1)[-1])
        click.echo(f"            outside them now: the page would be held until {opens}")
    if data["maintenance_window"]:
        click.echo(f"maintenance window {data['maintenance_window']} is active: recorded only")
    click.echo(_levels(data["levels"], "people"))


def _levels(levels: list[dict[str, Any]], people: str) -> str:
    rows = [
        (
            str(lv["level"]),
            ", ".join(lv["targets"]),
            lv["ack_timeout"] or "-",
            ", ".join(lv[people]) or "NOBODY",
        )
        for lv in levels
    ]
    return table(("level", "targets", "ack timeout", "reaches now"), rows)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


COMMANDS = (oncall, priorities, explain)
