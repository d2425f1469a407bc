"""Bring the schema to the newest revision (`pager migrate`, and `serve` on start).

A database already at the newest revision is recognised without importing
Alembic (about a third of pager's start-up: it brings Mako and Pygments): the
revision in `alembic_version` is compared with the head of the scripts
directory, read from the scripts' `revision` / `down_revision` lines.

A new SQLite file (no table at all) is made from the models and stamped with
the head, in one transaction, rather than by running every script (a third
of a second at the first start, most of it Alembic's import):
tests/store/test_migrations.py holds that both make the same schema.
PostgreSQL, shared by replicas and upgraded in place, always takes the scripts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, Connection, MetaData, PrimaryKeyConstraint, String, Table, text
from sqlalchemy.exc import DBAPIError

from pager.store.db import Database
from pager.store.models import Base

if TYPE_CHECKING:
    from alembic.config import Config

# A link to the top-level alembic/ in a checkout; a copy in an installed wheel.
SCRIPTS = Path(__file__).resolve().parents[1] / "migrations"
# Alembic's own table, as Alembic makes it (alembic.runtime.migration).
VERSION_TABLE = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
_TABLES = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
_REVISION = re.compile(r'^(down_revision|revision)\s*(?::[^=]*)?=\s*["\']?([\w]+)', re.M)


def head_revision(scripts: Path = SCRIPTS) -> str | None:
    """The one revision no script revises (None when that is not a single one)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in (scripts / "versions").glob("*.py"):
        found = {m[1]: m[2] for m in _REVISION.finditer(script.read_text())}
        if "revision" in found:
            revisions.add(found["revision"])
        if found.get("down_revision") not in (None, "None"):
            revised.add(found["down_revision"])
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


async def _current(db: Database) -> str | None:
    """The database's revision; None when it has none (or no table for it yet)."""
    try:
        async with db.read() as session:
            rows = (await session.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def _config(connection: Connection) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


async def migrate(db: Database) -> None:
    """Upgrade to head in one transaction; safe to run from several replicas at once."""
    head = head_revision()
    if head is not None and await _current(db) == head:
        return
    if db.is_sqlite and head is not None and await _created_at(db, head):
        return
    await run_scripts(db)


async def _created_at(db: Database, head: str) -> bool:
    """On an SQLite file with no table: the models' schema, stamped `head`; False
    (nothing done) when the file has tables. The write lock (BEGIN IMMEDIATE)
    makes a second process starting on the same new file wait, then find the
    tables and take the usual way (Alembic finds them at head)."""
    async with db.write() as session:
        conn = await session.connection()
        if (await conn.exec_driver_sql(_TABLES)).scalar_one() > 0:
            return False
        await conn.run_sync(Base.metadata.create_all)
        await conn.run_sync(VERSION_TABLE.create)
        await conn.execute(VERSION_TABLE.insert().values(version_num=head))
    return True


async def run_scripts(db: Database, revision: str = "head") -> None:
    """Alembic's upgrade to `revision`, every script after the database's own."""
    from alembic import command

    async with db.unbounded() as engine, engine.begin() as conn:
        if not db.is_sqlite:
            # Replicas starting together take turns instead of racing on DDL.
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7412001)")
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), revision))
