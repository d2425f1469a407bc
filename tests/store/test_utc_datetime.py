"""UTCDateTime on SQLite: its one-function processors store and read exactly what
the two layers they replace (process_bind_param / process_result_value around
SQLite DATETIME's own conversion) did, so rows written before and after read alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from pager.store.models import UTCDateTime

DIALECT = sqlite.dialect()
zones = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60, 23 * 60)
)
aware = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC) | zones
)


def _stock_bind(value: datetime | None) -> str | None:
    """The layers the stock TypeDecorator composes."""
    typ = UTCDateTime()
    inner = sqlite.DATETIME().bind_processor(DIALECT)
    assert inner is not None
    return inner(typ.process_bind_param(value, DIALECT))  # type: ignore[no-any-return]


def _stock_result(value: str | None) -> datetime | None:
    typ = UTCDateTime()
    inner = sqlite.DATETIME().result_processor(DIALECT, None)
    assert inner is not None
    return typ.process_result_value(inner(value), DIALECT)


def test_sqlite_gets_the_one_function_processors() -> None:
    typ = UTCDateTime()
    bind, result = typ.bind_processor(DIALECT), typ.result_processor(DIALECT, None)
    stock_bind = TypeDecorator.bind_processor(typ, DIALECT)
    assert bind is not None
    assert result is not None
    assert bind is not stock_bind
    assert bind.__module__ == result.__module__ == "pager.store.models"


@given(aware)
def test_bind_stores_the_same_text(value: datetime) -> None:
    bind = UTCDateTime().bind_processor(DIALECT)
    assert bind is not None
    assert bind(value) == _stock_bind(value)


@given(aware)
def test_result_reads_the_same_instant(value: datetime) -> None:
    stored = _stock_bind(value)
    result = UTCDateTime().result_processor(DIALECT, None)
    assert result is not None
    read = result(stored)
    assert read == _stock_result(stored) == value
    assert read is not None
    assert read.tzinfo is UTC


@pytest.mark.parametrize(
    "stored",
    ["2026-12-02 10:53:00", "2026-12-02 10:53:00.5", "2026-12-02T10:53:00+02:00", None],
)
def test_result_reads_other_texts_as_the_stock_layers_do(stored: str | None) -> None:
    result = UTCDateTime().result_processor(DIALECT, None)
    assert result is not None
    assert result(stored) == _stock_result(stored)


def test_naive_and_none() -> None:
    bind = UTCDateTime().bind_processor(DIALECT)
    assert bind is not None
    with pytest.raises(ValueError, match="naive"):
        bind(datetime(2026, 1, 1))
    assert bind(None) is None


def test_a_real_sqlite_round_trip_and_comparison() -> None:
    table = Table(
        "t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime)
    )
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    at = datetime(2026, 12, 2, 12, 0, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    with engine.begin() as conn:
        conn.execute(insert(table), [{"at": at}, {"at": at + timedelta(microseconds=1)}])
        raw = conn.execute(text("SELECT at FROM t ORDER BY id")).scalars().all()
        assert raw == ["2026-12-02 10:00:00.000000", "2026-12-02 10:00:00.000001"]
        later = conn.execute(select(table.c.id).where(table.c.at > at)).scalars().all()
        assert later == [2]
        assert conn.execute(select(table.c.at).where(table.c.id == 1)).scalar_one() == at
