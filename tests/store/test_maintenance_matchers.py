"""Stored maintenance windows keep working under Alertmanager's parsers (both databases).

A window stored before pager read matchers as Alertmanager does may hold text
that is now ambiguous or several matchers; it is read as Alertmanager reads
it, and one that no longer reads at all is skipped, never a 500 on every
webhook and never a window that matches everything.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pager.store.maintenance import active_suppressor
from pager.store.models import MaintenanceWindow

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def test_old_windows_read_as_alertmanager_reads_them(db) -> None:
    async with db.write() as session:
        for matchers in (['foo="\\x41"', "a=1,b=2"], ['job=~"(unclosed"'], ['env="prod"']):
            session.add(
                MaintenanceWindow(
                    matchers=matchers,
                    start=NOW - timedelta(hours=1),
                    end=NOW + timedelta(hours=1),
                    reason="",
                    created_at=NOW,
                )
            )
    async with db.read() as session:
        suppress = await active_suppressor(session, NOW)
    first = suppress({"foo": "\\x41", "a": "1", "b": "2"})  # the classic reading of foo
    assert first is not None
    assert first.matchers == ['foo="\\x41"', "a=1,b=2"]
    assert suppress({"foo": "A", "a": "1", "b": "2"}) is None
    assert suppress({"job": "anything"}) is None  # the unreadable window matches nothing
    prod = suppress({"env": "prod"})
    assert prod is not None
    assert prod.matchers == ['env="prod"']
