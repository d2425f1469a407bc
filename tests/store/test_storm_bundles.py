"""A storm's bundle and digest name more incidents and messages than one statement
may bind (SQLite and asyncpg both stop at 32,767 parameters): the reads that
write their text still answer, so the bundle goes."""

from __future__ import annotations

from pager.core.vocabulary import IncidentState
from pager.store.db import Database
from pager.store.incidents import triggered_among
from pager.store.notifications import bodies_of
from tests.store.test_core_recording import make_incident, make_row

BEYOND = 40_000  # ids asked for: more than any driver binds in one statement


async def test_the_open_incidents_of_a_bundle_beyond_one_statement(db: Database) -> None:
    async with db.write() as session:
        first = await make_incident(session)
        acked = await make_incident(session, IncidentState.ACKNOWLEDGED)
        last = await make_incident(session)
    asked = [first, acked, *range(last + 1, last + BEYOND), last]
    async with db.read() as session:
        found = await triggered_among(session, asked)
    assert [r.id for r in found] == [first, last]
    assert [r.title for r in found] == ["API down", "API down"]


async def test_the_bodies_of_a_digest_beyond_one_statement(db: Database) -> None:
    async with db.write() as session:
        incident = await make_incident(session)
        one = await make_row(session, "one", incident)
        two = await make_row(session, "two", incident)
    async with db.read() as session:
        bodies = await bodies_of(session, [one, *range(two + 1, two + BEYOND), two])
    assert bodies == ["[P1] API down", "[P1] API down"]
