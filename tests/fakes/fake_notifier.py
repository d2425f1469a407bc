"""A fake notifier for scenario tests, in the style of GoAlert's smoke tests:
every message must be expected, and `assert_no_more()` ends each scenario, so
a double page fails the test."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from pager.notify.base import Message, Outcome, SendResult


@dataclass
class FakeNotifier:
    sent: list[Message] = field(default_factory=list)
    consumed: set[int] = field(default_factory=set)
    failures: dict[tuple[str, str], list[SendResult]] = field(default_factory=dict)
    crash_after_accept: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(self, message: Message) -> SendResult:
        self.sent.append(message)
        queued = self.failures.get((message.person_id, message.channel))
        if queued:
            return queued.pop(0)
        if self.crash_after_accept:
            raise Crash("process died after the provider accepted")
        return SendResult(Outcome.ACCEPTED, provider_id=f"FAKE{next(self._ids):06d}")

    async def close(self) -> None:
        return None

    def fail(self, person: str, channel: str, *results: SendResult) -> None:
        self.failures.setdefault((person, channel), []).extend(results)

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

    def assert_no_more(self) -> None:
        left = self._left()
        assert not left, f"unexpected messages: {left}"

    def _left(self) -> list[str]:
        return [
            f"{m.channel}->{m.person_id}: {m.body}"
            for i, m in enumerate(self.sent)
            if i not in self.consumed
        ]


class Crash(BaseException):
    """Simulates the process dying: not an Exception, so nothing catches it."""
