"""How `pager serve` readies the process and its HTTP server for many or slow clients.

* The soft limit on open files is raised to the hard one: each connection is a
  file, and at Linux's usual soft 1,024 a burst of idle clients left no file
  for the database or the next accept.
* A client has PAGER_CLIENT_TIMEOUT to send its request headers on a new or
  idle connection (aiohttp's keep-alive timeout, which 3.14 applies from the
  connection's start), and again its body (pager.edge).
* When accept() fails for want of files, asyncio reports it with a traceback
  each time it retries (every second, per socket); it is logged here once per
  interval instead, with a count and what to do, and no traceback (nor for a
  retry that finds the server closed by a shutdown).
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

log = logging.getLogger(__name__)
ACCEPT_FAILED = "socket.accept() out of system resource"
# asyncio retries the accept a second later; when the server closed meanwhile (a
# shutdown), the retry fails on the closed socket with a traceback of its own.
RETRY_AFTER_CLOSE = "Exception in callback BaseSelectorEventLoop._start_serving"
MOST_FILES = 1 << 20  # when the hard limit is unlimited: as many as Linux allows by default


def raise_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MOST_FILES if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open files limit from %d: %s", soft, exc)
    log.debug("open files limit: %d", soft)
    return soft


class AcceptErrors:
    """A loop exception handler that logs failed accepts at most once per `interval`."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self.seen = 0
        self._last: float | None = None

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        if message.startswith(RETRY_AFTER_CLOSE) and isinstance(
            context.get("exception"), ValueError
        ):
            log.debug("accept retried after the server closed: %s", context.get("exception"))
            return
        if message != ACCEPT_FAILED:
            loop.default_exception_handler(context)
            return
        self.seen += 1
        now = loop.time()
        if self._last is not None and now - self._last < self.interval:
            return
        self._last = now
        log.error(
            "cannot accept connections (%d failed accepts since the last report): %s; "
            "raise the open files limit (ulimit -n) or lower PAGER_CLIENT_TIMEOUT",
            self.seen,
            context.get("exception"),
        )
        self.seen = 0


def new_loop(accept_report_interval: float = 10.0) -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(AcceptErrors(accept_report_interval))
    return loop
