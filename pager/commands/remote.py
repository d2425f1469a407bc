"""What the commands that talk to a running daemon share: the client, made from
`PAGER_URL` and `PAGER_API_TOKEN`, its errors as one-line click errors, and `--json`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from pager.commands.client import Client, ClientError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_URL = "http://127.0.0.1:8080"


def api() -> Client:
    return Client(os.environ.get("PAGER_URL", DEFAULT_URL), os.environ.get("PAGER_API_TOKEN"))


def call(fn: Callable[[], T]) -> T:
    """The daemon's answer, or a click error saying what went wrong (exit 1)."""
    try:
        return fn()
    except ClientError as exc:
        raise click.ClickException(str(exc)) from None


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the API's JSON answer.")(fn)


def by_option(fn: F) -> F:
    return click.option(
        "--by",
        envvar="PAGER_USER",
        help="Your person id in the policy (default: $PAGER_USER).",
    )(fn)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))
