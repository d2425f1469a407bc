"""The notifier made in the background (pager.notify.deferred): made once the
daemon is ready, sends wait for it, and one that could not start pages nobody
silently: sends come back TEMPORARY (the outbox keeps the page), lookups
fail, /readyz is told why."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from pager.core.outcome import Outcome
from pager.core.vocabulary import Channel
from pager.notify.base import Kind, LookupFailed, Message, Notifier
from pager.notify.deferred import Deferred
from tests.fakes.fake_notifier import FakeNotifier

PAGE = Message(7, 42, "alice", "+15550100001", Channel.SMS, Kind.PAGE, "[P1] #42 Disk full")
SINCE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Closing(FakeNotifier):
    closed: bool = False

    async def close(self) -> None:
        self.closed = True


async def test_made_once_ready_and_a_send_waits_for_it():
    ready, inner = asyncio.Event(), Closing()
    made: list[Notifier] = []

    async def make() -> Notifier:
        made.append(inner)
        return inner

    deferred = Deferred(make)
    deferred.start(after=ready)
    send = asyncio.create_task(deferred.send(PAGE))
    await asyncio.sleep(0)  # lets both tasks run up to their waits (no time passes)
    assert made == []  # not before the daemon is ready
    assert not send.done()
    assert deferred.failure is None  # still to start: not a failure
    ready.set()
    result = await send
    assert made == [inner]
    assert result.outcome is Outcome.ACCEPTED
    assert inner.sent == [PAGE]
    assert await deferred.find_sent(PAGE, SINCE) == [result.provider_id]
    await deferred.close()
    assert inner.closed


async def test_one_that_cannot_start_fails_each_send_retryably_and_says_why(caplog):
    async def make() -> Notifier:
        raise ImportError("No module named 'twilio'")

    ready = asyncio.Event()
    ready.set()
    deferred = Deferred(make)
    deferred.start(after=ready)
    result = await deferred.send(PAGE)
    assert result.outcome is Outcome.TEMPORARY  # nothing left the process
    assert result.error == "notifier did not start: No module named 'twilio'"
    with pytest.raises(LookupFailed, match="notifier did not start"):
        await deferred.find_sent(PAGE, SINCE)
    assert deferred.failure == "notifier did not start: No module named 'twilio'"
    assert "the notifier could not start" in caplog.text
    await deferred.close()  # nothing to close, and no error


async def test_closed_before_it_was_made_it_never_is():
    made: list[Notifier] = []

    async def make() -> Notifier:
        made.append(Closing())
        return made[-1]

    deferred = Deferred(make)
    deferred.start(after=asyncio.Event())  # never ready
    await deferred.close()
    assert made == []
    assert deferred.failure is None
    assert (await deferred.send(PAGE)).outcome is Outcome.TEMPORARY  # closed: nothing sent


async def test_one_that_failed_is_tried_again_and_then_pages(caplog):
    """A passing failure (no file descriptor left at start) is not for the
    process's life: make() is tried again, and the page waiting in the outbox
    goes out at its next try."""
    inner, tries = Closing(), []

    async def make() -> Notifier:
        tries.append(1)
        if len(tries) == 1:
            raise OSError(24, "Too many open files")
        return inner

    ready = asyncio.Event()
    ready.set()
    deferred = Deferred(make, retry_after=0)
    deferred.start(after=ready)
    first = await deferred.send(PAGE)
    assert first.outcome is Outcome.TEMPORARY
    assert deferred.failure == "notifier did not start: [Errno 24] Too many open files"
    [line] = [r for r in caplog.records if "could not start" in r.getMessage()]
    assert line.exc_info is None  # one line, not a traceback
    for _ in range(100):  # turns of the loop for the retry's sleep(0): no time passes
        if deferred.failure is None:
            break
        await asyncio.sleep(0)
    assert deferred.failure is None
    assert (await deferred.send(PAGE)).outcome is Outcome.ACCEPTED
    assert tries == [1, 1]
    assert inner.sent == [PAGE]
    await deferred.close()
    assert inner.closed
