"""The `pager` command. With __main__.py, the only place that reads argv and the environment."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from aiohttp import web

from pager.client import Client, ClientError
from pager.logs import setup_logging
from pager.settings import Settings, SettingsError, load_settings, split_listen
from pager.tables import table

T = TypeVar("T")
CONFIG = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, path_type=Path),
    help="YAML file with the same keys as the environment settings.",
)


def _settings(config_file: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config_file, **overrides)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.version_option(package_name="pager")
def main() -> None:
    """pager: pages the on-call engineer for Prometheus alerts, until someone acknowledges."""


@main.command()
@CONFIG
@click.option("--listen", help="HOST:PORT to serve on (PAGER_LISTEN).")
@click.option("--policies", type=click.Path(path_type=Path), help="Policy directory.")
@click.option("--no-migrate", is_flag=True, help="Do not upgrade the database schema on start.")
@click.option(
    "--insecure", is_flag=True, help="Allow a non-loopback address without both tokens set."
)
def serve(
    config_file: Path | None,
    listen: str | None,
    policies: Path | None,
    no_migrate: bool,
    insecure: bool,
) -> None:
    """Run the daemon."""
    from pager.app import StartupError, create_app

    settings = _settings(config_file, listen=listen, policies=policies)
    setup_logging(settings.log_format)
    if (
        not settings.listens_on_loopback()
        and not insecure
        and not (settings.webhook_token and settings.api_token)
    ):
        raise click.ClickException(
            f"refusing to serve on {settings.listen} without PAGER_WEBHOOK_TOKEN and "
            "PAGER_API_TOKEN: anyone could post alerts or acknowledge pages. Set both, "
            "or pass --insecure."
        )
    host, port = split_listen(settings.listen)
    app = create_app(settings, run_migrations=not no_migrate)
    try:
        web.run_app(
            app, host=host, port=port, print=lambda _msg: None, shutdown_timeout=20, access_log=None
        )
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@CONFIG
def migrate(config_file: Path | None) -> None:
    """Upgrade the database schema to the newest version."""
    from pager.store.db import Database
    from pager.store.migrate import migrate as run_migrate

    settings = _settings(config_file)

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await run_migrate(db)
        finally:
            await db.close()

    asyncio.run(run())
    click.echo("database is at the newest schema")


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def check(directory: Path | None) -> None:
    """Validate policies; print each problem as file:line: message."""
    from pager.policy.loader import run_check

    sys.exit(run_check(directory or _settings(None).policies, sys.stdout))


def _client() -> Client:
    return Client(
        os.environ.get("PAGER_URL", "http://127.0.0.1:8080"), os.environ.get("PAGER_API_TOKEN")
    )


def _call(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except ClientError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--at", help="ISO-8601 instant (default: now).")
@click.option("--rotation", help="Only this rotation.")
def oncall(at: str | None, rotation: str | None) -> None:
    """Who is on call, per rotation and escalation level (asks the running daemon)."""
    data = _call(lambda: _client().get("/api/v1/oncall", at=at, rotation=rotation))
    click.echo(f"On call at {data['at']}\n")
    rows = [
        (
            r["rotation"],
            r["person"] or "NOBODY",
            _short(r["since"]),
            _short(r["until"]),
            r["next_person"] or "-",
            "override" if r["override"] else "",
        )
        for r in data["rotations"]
    ]
    click.echo(table(("rotation", "on call", "since", "until", "next", ""), rows))
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


def _short(value: str) -> str:
    return value.replace("T", " ")[:16] + " UTC" if value.endswith(("+00:00", "Z")) else value


@main.command()
def priorities() -> None:
    """What each priority means, what leads to it, and whom it pages now."""
    data = _call(lambda: _client().get("/api/v1/priorities"))
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
            rows = [
                (
                    str(lv["level"]),
                    ", ".join(lv["targets"]),
                    lv["ack_timeout"] or "-",
                    ", ".join(lv["reaches_now"]) or "NOBODY",
                )
                for lv in e["levels"]
            ]
            click.echo(f"  escalation {e['escalation']} (repeat {e['repeat']}):")
            click.echo(_indent(table(("level", "targets", "ack timeout", "reaches now"), rows)))
        click.echo("")


@main.command()
@click.argument("labels", nargs=-1, required=True)
def explain(labels: tuple[str, ...]) -> None:
    """Which rule LABEL=VALUE ... matches, and whom it would page now (no side effect)."""
    pairs = {}
    for label in labels:
        name, sep, value = label.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{label!r} is not LABEL=VALUE")
        pairs[name] = value
    data = _call(lambda: _client().post("/api/v1/explain", {"labels": pairs}))
    click.echo(f"rule:       {data['rule']}")
    click.echo(f"priority:   {data['priority']}  {data['description']}")
    click.echo(f"channels:   {', '.join(data['channels'])}")
    click.echo(f"escalation: {data['escalation']}")
    if data["heartbeat"]:
        click.echo("heartbeat:  yes (a ping, not an incident)")
    if data["maintenance_window"]:
        click.echo(f"maintenance window {data['maintenance_window']} is active: recorded only")
    rows = [
        (
            str(lv["level"]),
            ", ".join(lv["targets"]),
            lv["ack_timeout"] or "-",
            ", ".join(lv["people"]) or "NOBODY",
        )
        for lv in data["levels"]
    ]
    click.echo(table(("level", "targets", "ack timeout", "reaches now"), rows))


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


@main.command()
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
    client = _client()
    started = _call(
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
    incident = _call(lambda: client.get(f"/api/v1/incidents/{ident}"))
    while incident["state"] == "triggered" and time.monotonic() < deadline:
        time.sleep(2)
        incident = _call(lambda: client.get(f"/api/v1/incidents/{ident}"))
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


@main.command()
@click.argument("incident", type=int)
def review(incident: int) -> None:
    """Post-incident review of INCIDENT as Markdown."""
    click.echo(_call(lambda: _client().text(f"/api/v1/incidents/{incident}/review")))


@main.group()
def actions() -> None:
    """Action items from reviews: list, add, close."""


@actions.command("list")
@click.option("--state", type=click.Choice(["open", "done"]))
@click.option("--owner")
def actions_list(state: str | None, owner: str | None) -> None:
    data = _call(lambda: _client().get("/api/v1/actions", state=state, owner=owner))
    rows = [
        (
            str(a["id"]),
            f"#{a['incident_id']}",
            a["title"],
            a["owner"],
            a["due"][:10],
            a["state"] + (" OVERDUE" if a["overdue"] else ""),
        )
        for a in data["actions"]
    ]
    click.echo(table(("id", "incident", "title", "owner", "due", "state"), rows))


@actions.command("add")
@click.argument("incident", type=int)
@click.argument("title")
@click.option("--owner", required=True, help="Person id.")
@click.option("--due", required=True, help="Due date, YYYY-MM-DD (end of day UTC) or ISO time.")
def actions_add(incident: int, title: str, owner: str, due: str) -> None:
    due_at = f"{due}T23:59:59Z" if len(due) == 10 else due
    item = _call(
        lambda: _client().post(
            f"/api/v1/incidents/{incident}/actions", {"title": title, "owner": owner, "due": due_at}
        )
    )
    click.echo(f"action item {item['id']} added to #{incident}")


@actions.command("close")
@click.argument("item", type=int)
def actions_close(item: int) -> None:
    _call(lambda: _client().patch(f"/api/v1/actions/{item}", {"state": "done"}))
    click.echo(f"action item {item} done")
