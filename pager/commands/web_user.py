"""`pager web-user add ID`: a console user in the web config file (PAGER_WEB_CONFIG).

This one works on the file, not through the daemon: the daemon reads the file
again at the next sign-in, so no restart is needed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from pager.policy.loader import PolicyError, load_policy
from pager.settings import SettingsError, load_settings
from pager.web.passwords import PasswordError, hash_password
from pager.web.webconfig import WebConfigError, set_user


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


def add_user(path: Path, person: str, password: str, cost: int, policies: Path) -> str:
    """Add or update `person`; the line to print. Refuses a person the policy does not know."""
    known: set[str] | None = None
    try:
        known = {p.id for p in load_policy(policies).policy.people}
    except PolicyError:
        click.echo(
            f"warning: cannot read the policy in {policies} (PAGER_POLICIES) to check that "
            f"{person!r} is a person of it; pager refuses sign-ins of anyone who is not",
            err=True,
        )
    if known is not None and person not in known:
        raise click.ClickException(
            f"{person!r} is not a person of the policy in {policies}: "
            f"use one of {', '.join(sorted(known))}"
        )
    try:
        hashed = hash_password(password, cost)
        new = set_user(path, person, hashed)
    except PasswordError as exc:
        raise click.ClickException(str(exc)) from None
    except WebConfigError as exc:
        raise click.ClickException(f"{path} is invalid, fix it first:\n{exc}") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc}") from None
    verb = "added to" if new else "has a new password in"
    return f"{person} {verb} {path} (pager reads it again at the next sign-in)"


COMMANDS = (web_user,)
