"""Long lists in pieces one statement can take.

SQLite (as built by some distributions) and asyncpg both refuse a statement of
more than 32,767 bound parameters, and a storm makes lists longer than that:
the incidents of one bundle, the rows of one batch. A piece of 1,000 rows is
well under the limit, also for an INSERT of a dozen columns each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Executable, Row
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
CHUNK = 1000


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    return (items[i : i + size] for i in range(0, len(items), size))


async def rows_for_ids(
    session: AsyncSession, statement: Executable, ids: Iterable[int]
) -> list[Row[Any]]:
    """`statement`'s rows for these ids (bound as the expanding parameter "ids"),
    asked a piece at a time in order of id, each id once."""
    found: list[Row[Any]] = []
    for piece in chunks(sorted(set(ids))):
        found += await session.execute(statement, {"ids": list(piece)})
    return found
