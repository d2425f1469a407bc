"""`pager incidents`, `ack`, `resolve`, `escalate`, `update`, `review` and `actions`:
the incidents themselves, through the running daemon's admin API."""

from __future__ import annotations

from functools import partial
from typing import Any

import click

from pager.commands.remote import api, by_option, call, echo_json, json_option
from pager.commands.tables import table

STATES = ("open", "triggered", "acknowledged", "resolved")
MAX_PAGE = 500  # the API's largest page


@click.command()
@click.option("--state", type=click.Choice(STATES), help="Only incidents in this state.")
@click.option("--priority", multiple=True, help="Only this priority (repeat for several).")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@json_option
def incidents(state: str | None, priority: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Incidents, newest first."""
    found = _newest(state, priority, limit)
    if as_json:
        echo_json({"incidents": found})
        return
    rows = [
        (
            f"#{i['id']}",
            i["priority"],
            i["state"] + (" DRILL" if i["drill"] else ""),
            i["created_at"].replace("T", " ")[:16],
            i["acked_by"] or i["resolved_by"] or "-",
            i["title"],
        )
        for i in found
    ]
    header = ("id", "priority", "state", "opened (UTC)", "by", "title")
    click.echo(table(header, rows) if rows else "no incidents")


def _newest(state: str | None, priorities: tuple[str, ...], limit: int) -> list[dict[str, Any]]:
    """Up to `limit` incidents, following the API's `next` links past one page."""
    client = api()
    query = {"state": state, "priority": ",".join(priorities) or None}
    page = call(lambda: client.get("/api/v1/incidents", limit=str(min(limit, MAX_PAGE)), **query))
    found: list[dict[str, Any]] = page["incidents"]
    while page["next"] and len(found) < limit:
        page = call(partial(client.get, page["next"]))
        found += page["incidents"]
    return found[:limit]


def _action(name: str, path: str, done: str) -> click.Command:
    @click.command(name, help=f"{done.capitalize()} incident ID.")
    @click.argument("incident", metavar="ID", type=click.IntRange(1))
    @by_option
    @json_option
    def command(incident: int, by: str | None, as_json: bool) -> None:
        body = {"by": by} if by else {}
        answer = call(lambda: api().post(f"/api/v1/incidents/{incident}/{path}", body))
        if as_json:
            echo_json(answer)
        else:
            click.echo(f"#{incident} {done}" + (f" by {by}" if by else ""))

    return command


ack = _action("ack", "ack", "acknowledged")
resolve = _action("resolve", "resolve", "resolved")
escalate = _action("escalate", "escalate", "escalated")


@click.command()
@click.argument("incident", metavar="ID", type=click.IntRange(1))
@click.argument("text")
@by_option
@json_option
def update(incident: int, text: str, by: str | None, as_json: bool) -> None:
    """Post a status update TEXT to incident ID (told to its stakeholders)."""
    body = {"text": text, **({"by": by} if by else {})}
    answer = call(lambda: api().post(f"/api/v1/incidents/{incident}/updates", body))
    if as_json:
        echo_json(answer)
    else:
        click.echo(f"update posted to #{incident}")


@click.command()
@click.argument("incident", metavar="ID", type=int)
def review(incident: int) -> None:
    """Post-incident review of incident ID as Markdown."""
    click.echo(call(lambda: api().text(f"/api/v1/incidents/{incident}/review")))


@click.group()
def actions() -> None:
    """Action items from reviews: list, add, close."""


@actions.command("list")
@click.option("--state", type=click.Choice(["open", "done"]))
@click.option("--owner")
def actions_list(state: str | None, owner: str | None) -> None:
    data = call(lambda: api().get("/api/v1/actions", state=state, owner=owner))
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
    item = call(
        lambda: api().post(
            f"/api/v1/incidents/{incident}/actions", {"title": title, "owner": owner, "due": due_at}
        )
    )
    click.echo(f"action item {item['id']} added to #{incident}")


@actions.command("close")
@click.argument("item", type=int)
def actions_close(item: int) -> None:
    call(lambda: api().patch(f"/api/v1/actions/{item}", {"state": "done"}))
    click.echo(f"action item {item} done")


COMMANDS = (incidents, ack, resolve, escalate, update, review, actions)
