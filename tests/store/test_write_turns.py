"""SQLite's write lock in turns: webhooks first, but never two turns in a row while
another writer waits; first come, first served within a kind."""

from __future__ import annotations

import asyncio

import pytest

from pager.store.write_turns import WriteTurns


async def _queue(turns: WriteTurns, order: list[str], name: str, urgent: bool) -> None:
    await turns.acquire(urgent)
    order.append(name)
    await asyncio.sleep(0)  # hold it across a turn of the loop, as a transaction does
    turns.release()


async def _waiting(
    turns: WriteTurns, *writers: tuple[str, bool]
) -> tuple[list[str], list[asyncio.Task[None]]]:
    """Writers queued (in this order) while the lock is held; then it is released."""
    order: list[str] = []
    await turns.acquire()  # a non-urgent holder, as the engine's transaction
    tasks = [asyncio.create_task(_queue(turns, order, n, u)) for n, u in writers]
    await asyncio.sleep(0)  # every one of them is waiting now
    turns.release()
    return order, tasks


async def test_an_urgent_writer_goes_before_the_others_waiting() -> None:
    turns = WriteTurns()
    order, tasks = await _waiting(turns, ("engine1", False), ("engine2", False), ("hook", True))
    await asyncio.gather(*tasks)
    assert order == ["hook", "engine1", "engine2"]
    assert not turns.locked


async def test_urgent_writers_never_take_two_turns_in_a_row_while_another_waits() -> None:
    turns = WriteTurns()
    writers = [("hook1", True), ("hook2", True), ("hook3", True), ("e1", False), ("e2", False)]
    order, tasks = await _waiting(turns, *writers)
    await asyncio.gather(*tasks)
    assert order == ["hook1", "e1", "hook2", "e2", "hook3"]


async def test_alone_it_is_a_plain_lock() -> None:
    turns = WriteTurns()
    order, tasks = await _waiting(turns, ("a", False), ("b", False), ("c", False))
    await asyncio.gather(*tasks)
    assert order == ["a", "b", "c"]
    await turns.acquire(urgent=True)  # free: taken at once
    assert turns.locked
    turns.release()
    with pytest.raises(RuntimeError):
        turns.release()


async def test_a_writer_that_gives_up_waiting_is_skipped() -> None:
    turns = WriteTurns()
    await turns.acquire()
    order: list[str] = []
    gone = asyncio.create_task(_queue(turns, order, "gone", True))
    stays = asyncio.create_task(_queue(turns, order, "stays", False))
    await asyncio.sleep(0)
    gone.cancel()  # as a webhook's timeout does
    with pytest.raises(asyncio.CancelledError):
        await gone
    turns.release()
    await stays
    assert order == ["stays"]
    assert not turns.locked


async def test_a_turn_given_to_a_writer_cancelled_meanwhile_is_passed_on() -> None:
    turns = WriteTurns()
    await turns.acquire()
    order: list[str] = []
    late = asyncio.create_task(_queue(turns, order, "late", True))
    after = asyncio.create_task(_queue(turns, order, "after", False))
    await asyncio.sleep(0)
    turns.release()  # the turn is late's now, but it has not run yet
    late.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late
    await after
    assert order == ["after"]
    assert not turns.locked
