"""pager serve's accept-error reports: once per interval, no traceback, and
nothing for asyncio's retry on a server a shutdown closed (the daemon test,
tests/ingest/test_slow_clients.py, meets that retry only now and then)."""

from __future__ import annotations

import errno
import logging
from typing import Any

import pytest

from pager.serving import ACCEPT_FAILED, RETRY_AFTER_CLOSE, AcceptErrors, new_loop


class Loop:
    """Just what the handler uses of a loop: its time and the default handler."""

    def __init__(self) -> None:
        self.now = 100.0
        self.defaulted: list[dict[str, Any]] = []

    def time(self) -> float:
        return self.now

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        self.defaulted.append(context)


def accept_failed() -> dict[str, Any]:
    return {"message": ACCEPT_FAILED, "exception": OSError(errno.EMFILE, "Too many open files")}


def test_failed_accepts_are_reported_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    loop, handler = Loop(), AcceptErrors(interval=10)
    with caplog.at_level(logging.DEBUG, "pager.serving"):
        for second in range(25):  # asyncio retries every second
            loop.now = 100.0 + second
            handler(loop, accept_failed())  # type: ignore[arg-type]
    reports = [r for r in caplog.records if "cannot accept connections" in r.getMessage()]
    assert [r.getMessage().split(":")[0] for r in reports] == [
        "cannot accept connections (1 failed accepts since the last report)",
        "cannot accept connections (10 failed accepts since the last report)",
        "cannot accept connections (10 failed accepts since the last report)",
    ]
    assert not any(r.exc_info for r in caplog.records)
    assert loop.defaulted == []


def test_the_retry_on_a_closed_server_is_no_error(caplog: pytest.LogCaptureFixture) -> None:
    loop, handler = Loop(), AcceptErrors()
    context = {
        "message": f"{RETRY_AFTER_CLOSE}(<server>, <socket>, None, <Server sockets=()>, 128)",
        "exception": ValueError("Invalid file descriptor: -1"),
    }
    with caplog.at_level(logging.INFO):
        handler(loop, context)  # type: ignore[arg-type]
    assert caplog.records == []
    assert loop.defaulted == []


def test_other_loop_errors_go_to_asyncio(caplog: pytest.LogCaptureFixture) -> None:
    loop, handler = Loop(), AcceptErrors()
    context = {"message": "Task exception was never retrieved", "exception": KeyError("x")}
    handler(loop, context)  # type: ignore[arg-type]
    assert loop.defaulted == [context]


def test_pager_serves_on_a_loop_with_the_handler() -> None:
    loop = new_loop()
    try:
        assert isinstance(loop.get_exception_handler(), AcceptErrors)
    finally:
        loop.close()
