"""A fake notifier for scenario tests, in the style of GoAlert's smoke tests:
every message must be expected, and `assert_no_more()` ends each scenario, so
a double page fails the test. The harness runs it again when the test ends
(`check_at_teardown`), so a test that forgets is still checked; a test that
means to leave messages says so, and why, with `allow_more(reason)`.

Scripted faults: `fail(person, channel, *results)` answers the next sends with
those results (an UNKNOWN one may still be "delivered": `delivered=True`);
`lookups_fail` makes `find_sent` unable to ask; `crash_after_accept` dies
(a BaseException) right after the provider took the message; `hold(person)`
keeps that person's sends waiting (in flight) until the returned event is set."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pager.core.outcome import Outcome
from pager.notify.base import LookupFailed, Message, SendResult


@dataclass
class FakeNotifier:
    sent: list[Message] = field(default_factory=list)  # every attempt, as before
    consumed: set[int] = field(default_factory=set)
    failures: dict[tuple[str, str], list[tuple[SendResult, bool]]] = field(default_factory=dict)
    crash_after_accept: bool = False
    lookups_fail: bool = False
    lookups: list[Message] = field(default_factory=list)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    in_flight: int = 0
    # What the provider holds, for find_sent (tests may clear `sent`).
    provider: list[tuple[str, Message]] = field(default_factory=list)
    # Why this test may end with unexpected messages (`allow_more`); None: it may not.
    allowed_more: str | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(self, message: Message) -> SendResult:
        gate = self.gates.get(message.person_id)
        if gate is not None:
            self.in_flight += 1
            try:
                await gate.wait()
            finally:
                self.in_flight -= 1
        self.sent.append(message)
        queued = self.failures.get((message.person_id, message.channel))
        if queued:
            result, delivered = queued.pop(0)
            if delivered:
                self._deliver(message)
            return result
        sid = self._deliver(message)
        if self.crash_after_accept:
            raise Crash("process died after the provider accepted")
        return SendResult(Outcome.ACCEPTED, provider_id=sid)

    def _deliver(self, message: Message) -> str:
        self.provider.append((f"FAKE{next(self._ids):06d}", message))
        return self.provider[-1][0]

    async def find_sent(self, message: Message, since: datetime) -> Sequence[str]:
        self.lookups.append(message)
        if self.lookups_fail:
            raise LookupFailed("the fake provider cannot be asked")
        return [
            sid
            for sid, m in self.provider
            if (m.phone, m.channel, m.body) == (message.phone, message.channel, message.body)
        ]

    async def close(self) -> None:
        return None

    def hold(self, person: str) -> asyncio.Event:
        """Sends to `person` wait until the event is set (a slow provider)."""
        return self.gates.setdefault(person, asyncio.Event())

    def fail(
        self, person: str, channel: str, *results: SendResult, delivered: bool = False
    ) -> None:
        """The next sends to `person` on `channel` get `results`; with `delivered`,
        the provider had them nonetheless (an answer lost on the way back)."""
        self.failures.setdefault((person, channel), []).extend((r, delivered) for r in results)

    def expect(self, person: str, channel: str, *words: str) -> Message:
        for index, message in enumerate(self.sent):
            if index in self.consumed or message.person_id != person:
                continue
            if message.channel == channel and all(w in message.body for w in words):
                self.consumed.add(index)
                return message
        raise AssertionError(
            f"expected {channel} to {person} with {words}; unconsumed: {self._left()}"
        )

    def expect_each(self, *pages: tuple[str, str, str]) -> None:
        """`expect(person, channel, words)` for each (person, channel, words) given."""
        for person, channel, words in pages:
            self.expect(person, channel, words)

    def assert_no_more(self) -> None:
        left = self._left()
        assert not left, f"unexpected messages: {left}"

    def allow_more(self, reason: str) -> None:
        """This test ends with messages it did not expect, on purpose: say why.
        The harness's teardown check (`check_at_teardown`) then passes over them."""
        self.allowed_more = require_reason(reason)

    def check_at_teardown(self) -> None:
        """What the harness runs when the test ends: `assert_no_more`, unless allowed."""
        if self.allowed_more is None:
            self.assert_no_more()

    def _left(self) -> list[str]:
        return [
            f"{m.channel}->{m.person_id}: {m.body}"
            for i, m in enumerate(self.sent)
            if i not in self.consumed
        ]


def require_reason(reason: str) -> str:
    if not reason.strip():
        raise ValueError("allow_more needs a reason: why may this test leave messages?")
    return reason


class Crash(BaseException):
    """Simulates the process dying: not an Exception, so nothing catches it."""
