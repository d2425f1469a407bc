"""The `pager` command: the daemon (`serve`, `migrate`, `check`) here, and the
commands that talk to a running daemon in pager.commands. With those and
__main__.py, the only places that read argv and the environment."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pager import gcpause

if TYPE_CHECKING:
    from pager.settings import Settings

# What the commands need (settings, SQLAlchemy, pydantic, aiohttp: most of a
# start) is imported inside them: `serve` imports it with the collector paused
# (pager.gcpause), and `pager --help` or a client command does not load it.

CONFIG = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, path_type=Path),
    help="YAML file with the same keys as the environment settings.",
)


def _settings(config_file: Path | None, **overrides: Any) -> Settings:
    from pager.settings import SettingsError, load_settings

    try:
        return load_settings(config_file, **overrides)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


class _Group(click.Group):
    """The daemon's commands here; the client commands (pager.commands, which talk
    to a running daemon) imported only when one of them is run or listed, so
    `pager serve` does not load them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_client_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or _client_commands().get(cmd_name)


@functools.cache
def _client_commands() -> dict[str, click.Command]:
    from pager.commands import drill, incidents, oncall, report, web_user

    commands = (
        *incidents.COMMANDS,
        *oncall.COMMANDS,
        drill.drill,
        *web_user.COMMANDS,
        *report.COMMANDS,
    )
    return {command.name or "": command for command in commands}


@click.group(cls=_Group)
@click.version_option(package_name="pager")
def main() -> None:
    """pager: pages the on-call engineer for Prometheus alerts, until someone acknowledges."""


DEBUG = click.option("--debug", is_flag=True, help="Show the traceback of a start-up failure.")


@main.command()
@CONFIG
@click.option("--listen", help="HOST:PORT to serve on (PAGER_LISTEN).")
@click.option("--policies", type=click.Path(path_type=Path), help="Policy directory.")
@click.option("--no-migrate", is_flag=True, help="Do not upgrade the database schema on start.")
@click.option(
    "--insecure", is_flag=True, help="Allow a non-loopback address without both tokens set."
)
@DEBUG
def serve(
    config_file: Path | None,
    listen: str | None,
    policies: Path | None,
    no_migrate: bool,
    insecure: bool,
    debug: bool,
) -> None:
    """Run the daemon."""
    # Until the daemon serves, the collector is paused (pager.gcpause): the imports
    # below are most of a start.
    with gcpause.paused() as resume_gc:
        from pager import tls

        with tls.deferred():  # aiohttp's CA certificates: read beside the start (pager.tls)
            from aiohttp import web
        tls.load_in_background()
        from pager.app import create_app
        from pager.logs import setup_logging
        from pager.serving import new_loop, raise_file_limit
        from pager.startup import bind, failures_said, preflight

        settings = _settings(config_file, listen=listen, policies=policies)
        setup_logging(settings.log_format)
        _refuse_open_address(settings, insecure)
        with failures_said(settings, debug):  # each start-up failure: one line, not a traceback
            policy = preflight(settings)
            sock = bind(settings.listen)
            app = create_app(settings, run_migrations=not no_migrate, policy=policy)

            async def started(_app: web.Application) -> None:
                resume_gc()  # the state is read, the engine runs: what was made stays

            app.on_startup.append(started)
            raise_file_limit()
            web.run_app(
                app,
                sock=sock,
                print=lambda _msg: None,
                shutdown_timeout=20,
                access_log=None,
                keepalive_timeout=settings.client_timeout,  # also the time to send the headers
                loop=new_loop(),
            )


def _refuse_open_address(settings: Settings, insecure: bool) -> None:
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


@main.command()
@CONFIG
@DEBUG
def migrate(config_file: Path | None, debug: bool) -> None:
    """Upgrade the database schema to the newest version."""
    import asyncio

    from pager.startup import failures_said
    from pager.store.db import Database
    from pager.store.migrate import migrate as run_migrate

    settings = _settings(config_file)

    async def run() -> None:
        db = Database(
            settings.database_url,
            timeout=settings.db_timeout,
            sqlite_synchronous=settings.sqlite_synchronous,
        )
        try:
            await run_migrate(db)
        finally:
            await db.close()

    with failures_said(settings, debug):
        asyncio.run(run())
    click.echo("database is at the newest schema")


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def check(directory: Path | None) -> None:
    """Validate policies; print each problem as file:line: message."""
    from pager.policy.loader import run_check

    sys.exit(run_check(directory or _settings(None).policies, sys.stdout))
