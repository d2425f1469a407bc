"""What a 2xx survives on SQLite is a setting: PAGER_SQLITE_SYNCHRONOUS (normal | full)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from pager.settings import SettingsError, load_settings
from pager.store.db import Database


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for key in list(os.environ):
        if key.startswith(("PAGER_", "TWILIO_")):
            monkeypatch.delenv(key)


def test_normal_by_default_and_full_when_asked(monkeypatch):
    assert load_settings().sqlite_synchronous == "normal"
    monkeypatch.setenv("PAGER_SQLITE_SYNCHRONOUS", "FULL")
    assert load_settings().sqlite_synchronous == "full"


def test_a_bad_value_names_the_variable_and_the_choices(monkeypatch):
    monkeypatch.setenv("PAGER_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "PAGER_SQLITE_SYNCHRONOUS" in str(err.value)
    assert "'normal' or 'full'" in str(err.value)


@pytest.mark.parametrize(("setting", "pragma"), [("normal", 1), ("full", 2)])
async def test_each_connection_runs_wal_with_the_chosen_synchronous(
    tmp_path: Path, setting, pragma
):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", sqlite_synchronous=setting)
    try:
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == pragma
    finally:
        await db.close()
