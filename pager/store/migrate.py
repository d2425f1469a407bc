"""Bring the schema to the newest revision (`pager migrate`, and `serve` on start).

A database already at the newest revision is recognised without importing
Alembic (about a third of pager's start-up: it brings Mako and Pygments): the
revision in `alembic_version` is compared with the head of the scripts
directory, read from the scripts' `revision` / `down_revision` lines.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from pager.store.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

# A link to the top-level alembic/ in a checkout; a copy in an installed wheel.
SCRIPTS = Path(__file__).resolve().parents[1] / "migrations"
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
    from alembic import command

    async with db.unbounded() as engine, engine.begin() as conn:
        if not db.is_sqlite:
            # Replicas starting together take turns instead of racing on DDL.
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7412001)")
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), "head"))
