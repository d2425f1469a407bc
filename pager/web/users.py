"""`pager web-user add`: write a person's bcrypt hash into the web config file."""

from __future__ import annotations

from pathlib import Path

import click

from pager.policy.loader import PolicyError, load_policy
from pager.web.passwords import PasswordError, hash_password
from pager.web.webconfig import WebConfigError, set_user


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
