"""Start-up failures as one line that names the setting and the fix.

`pager serve` and `pager migrate` run their start-up inside `failures_said()`:
a failure becomes one `Error: ...` line on stderr and exit status 1, never a
traceback (that only with `--debug`). `preflight()` checks what can be checked
before anything starts (the policy, the web console's users file, the SQLite
directory), handing the policy it read on to the start, and `bind()` takes
the port first, so a port in use is said before the database is touched.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from pager.engine.policy_runtime import Prepared, prepare
from pager.policy.loader import PolicyError
from pager.settings import Settings, split_listen
from pager.web.webconfig import WebConfigError, parse_web_config

MAX_POLICY_ERRORS = 3  # on the one line; `pager check` shows them all


class StartupError(RuntimeError):
    """The daemon cannot start; the message (one line) says why and what to do."""


@contextmanager
def failures_said(settings: Settings, debug: bool) -> Iterator[None]:
    """Turn any start-up failure into one line (a click error), unless `debug`."""
    try:
        yield
    except (click.ClickException, click.exceptions.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:
        if debug:
            raise
        raise click.ClickException(describe(exc, settings)) from None


def preflight(settings: Settings) -> Prepared:
    """What can fail before anything starts: the policy, the SQLite file's directory.
    Returns the policy as read, for the start to use rather than read it again."""
    try:
        policy = prepare(settings.policies)
    except PolicyError as exc:
        issues = [str(i) for i in exc.errors]
        raise StartupError(policy_failure(settings.policies, issues)) from None
    if settings.web_config is not None and settings.web_config.exists():
        try:
            parse_web_config(settings.web_config)
        except WebConfigError as exc:
            raise StartupError(web_config_failure(exc)) from None
    if settings.is_sqlite:
        database = make_url(settings.database_url).database or ""
        folder = Path(database).parent if database not in ("", ":memory:") else None
        if folder is not None and not folder.is_dir():
            raise StartupError(
                f"PAGER_DATABASE_URL: the directory {folder} of the SQLite database does "
                f"not exist: create it (mkdir -p {folder}) or point PAGER_DATABASE_URL elsewhere"
            )
    return policy


def policy_failure(directory: Path, errors: list[str]) -> str:
    shown = "; ".join(errors[:MAX_POLICY_ERRORS])
    hidden = len(errors) - MAX_POLICY_ERRORS
    more = f" (and {hidden} more)" if hidden > 0 else ""
    return (
        f"PAGER_POLICIES={directory}: the policy is invalid: {shown}{more}; "
        f"fix it (`pager check {directory}` lists every problem)"
    )


def web_config_failure(exc: WebConfigError) -> str:
    shown = "; ".join(str(issue) for issue in exc.issues[:MAX_POLICY_ERRORS])
    hidden = len(exc.issues) - MAX_POLICY_ERRORS
    more = f" (and {hidden} more)" if hidden > 0 else ""
    return f"PAGER_WEB_CONFIG: the web console's users file is invalid: {shown}{more}"


def bind(listen: str) -> socket.socket:
    """The listening socket, taken before start-up (aiohttp serves on it)."""
    host, port = split_listen(listen)
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family)


def describe(exc: BaseException, settings: Settings) -> str:
    if isinstance(exc, StartupError):
        return str(exc)
    if isinstance(exc, DBAPIError) or _is_connect_error(exc):
        return _database_failure(exc, settings)
    if isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EACCES):
        return _listen_failure(exc, settings.listen)
    return f"cannot start: {type(exc).__name__}: {_first_line(exc)} (--debug shows the traceback)"


def _listen_failure(exc: OSError, listen: str) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"PAGER_LISTEN: {listen} is already in use (another pager?): stop what listens "
            "there or choose another address with --listen or PAGER_LISTEN"
        )
    return (
        f"PAGER_LISTEN: not allowed to listen on {listen} (ports below 1024 need privileges): "
        "choose another port with --listen or PAGER_LISTEN"
    )


def _database_failure(exc: BaseException, settings: Settings) -> str:
    url = make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = _first_line(orig)
    if settings.is_sqlite:
        fix = "check the file and its directory are writable, or fix PAGER_DATABASE_URL"
    elif "does not exist" in reason and "database" in reason:
        fix = f"create it (createdb {url.database}) or fix PAGER_DATABASE_URL"
    elif _is_connect_error(orig):
        fix = f"start PostgreSQL on {url.host}:{url.port or 5432} or fix PAGER_DATABASE_URL"
    else:
        fix = "check the user, password and database in PAGER_DATABASE_URL"
    return f"PAGER_DATABASE_URL: cannot use the database {shown}: {reason}: {fix}"


def _is_connect_error(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionError | TimeoutError | socket.gaierror) or (
        isinstance(exc, OSError) and exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH)
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
