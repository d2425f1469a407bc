"""The notifier made in the background (pager.notify.deferred): sends wait for
it, and one that could not start pages nobody silently: sends come back
TEMPORARY (the outbox keeps the page), lookups fail, /readyz is told why."""

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


async def test_a_send_waits_for_the_notifier_then_goes_through_it():
    made = asyncio.Event()
    inner = Closing()

    async def make() -> Notifier:
        await made.wait()
        return inner

    deferred = Deferred(make)
    send = asyncio.create_task(deferred.send(PAGE))
    await asyncio.sleep(0)  # lets the send reach its wait (no time passes)
    assert not send.done() and inner.sent == []
    assert deferred.failure is None  # still starting: not a failure
    made.set()
    result = await send
    assert result.outcome is Outcome.ACCEPTED and inner.sent == [PAGE]
    assert await deferred.find_sent(PAGE, SINCE) == [result.provider_id]
    await deferred.close()
    assert inner.closed


async def test_one_that_cannot_start_fails_each_send_retryably_and_says_why(caplog):
    async def make() -> Notifier:
        raise ImportError("No module named 'twilio'")

    deferred = Deferred(make)
    result = await deferred.send(PAGE)
    assert result.outcome is Outcome.TEMPORARY  # nothing left the process
    assert result.error == "notifier did not start: No module named 'twilio'"
    with pytest.raises(LookupFailed, match="notifier did not start"):
        await deferred.find_sent(PAGE, SINCE)
    assert deferred.failure == "notifier did not start: No module named 'twilio'"
    assert "the notifier could not start" in caplog.text
    await deferred.close()  # nothing to close, and no error


async def test_closed_while_it_starts_it_is_never_made():
    started, finished = asyncio.Event(), False

    async def make() -> Notifier:
        nonlocal finished
        started.set()
        await asyncio.Event().wait()  # never, unless cancelled
        finished = True
        return Closing()

    deferred = Deferred(make)
    await started.wait()
    await deferred.close()
    assert not finished and deferred.failure is None
