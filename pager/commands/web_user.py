"""`pager web-user add ID`: a console user in the web config file (PAGER_WEB_CONFIG).

This one works on the file, not through the daemon: the daemon reads the file
again at the next sign-in, so no restart is needed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from pager.settings import SettingsError, load_settings


@click.group("web-user")
def web_user() -> None:
    """Web console users (the PAGER_WEB_CONFIG file, Prometheus's web config format)."""


@web_user.command("add")
@click.argument("person")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The web config file (default: PAGER_WEB_CONFIG, else web.yml).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--cost", default=12, show_default=True, type=click.IntRange(4, 16))
def add(person: str, path: Path | None, password_stdin: bool, cost: int) -> None:
    """Add PERSON (a person id of the policy), or give them a new password."""
    from pager.web.users import add_user

    try:
        policies = load_settings().policies
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    target = path or Path(os.environ.get("PAGER_WEB_CONFIG") or "web.yml")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(f"Password for {person}", hide_input=True, confirmation_prompt=True)
    click.echo(add_user(target, person, password, cost, policies))


COMMANDS = (web_user,)
