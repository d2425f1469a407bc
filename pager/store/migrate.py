"""Bring the schema to the newest revision (`pager migrate`, and `serve` on start)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import Connection

from alembic import command
from pager.store.db import Database

# A link to the top-level alembic/ in a checkout; a copy in an installed wheel.
SCRIPTS = Path(__file__).resolve().parents[1] / "migrations"


def _config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


async def migrate(db: Database) -> None:
    """Upgrade to head in one transaction; safe to run from several replicas at once."""
    async with db.unbounded() as engine, engine.begin() as conn:
        if not db.is_sqlite:
            # Replicas starting together take turns instead of racing on DDL.
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7412001)")
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), "head"))
