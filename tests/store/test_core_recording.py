"""An accepted send is recorded with prebuilt Core statements (store/prebuilt.py):
they must write and read exactly what the ORM statements they replaced did.

Each Core path runs next to its ORM counterpart (the ORM statement kept here
as it was in store/outbox.py, `add_event`, an ORM select) on two rows made
alike, and the rows are compared as the database holds them (raw, without the
column types: SQLite's stored text, PostgreSQL's values), on SQLite and
PostgreSQL. Then a real send through the app: its timeline, read back through
the API, is the one the ORM recording gave (taken from the code before).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, event, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.vocabulary import (
    Channel,
    EventKind,
    IncidentState,
    NotificationKind,
    NotificationState,
)
from pager.store import notification_rows
from pager.store.db import Database
from pager.store.incidents import add_event, insert_event, timeline
from pager.store.models import Event, Incident, Notification, PolicyVersion
from pager.store.notifications import page_sent_before, sent_times
from pager.store.outbox import mark_sent
from tests.harness import Harness
from tests.scenario.policies import BASE

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(minutes=3)
LEASE = "a1b2c3d4e5f6a7b8"
SENT_NAMES = [
    "id",
    "incident_id",
    "person_id",
    "channel",
    "kind",
    "step",
    "scheduled_at",
    "due_at",
    "alert_received_at",
    "sent_at",
    "incident_state",
]

# The ORM statement mark_sent ran before (store/outbox.py), the reference.
_ORM_INCIDENT_STATE = (
    select(Incident.state)
    .where(Incident.id == Notification.incident_id)
    .scalar_subquery()
    .label("incident_state")
)
_COLUMNS = Notification.__table__.c
_ORM_MARK_SENT = (
    update(Notification)
    .where(
        Notification.id == bindparam("p_id"),
        Notification.lease == bindparam("p_lease"),
        Notification.state.in_((NotificationState.SENDING, NotificationState.UNKNOWN)),
    )
    .values(
        state=NotificationState.SENT,
        lease=None,
        deadline=None,
        error_code=bindparam("p_code", type_=_COLUMNS.error_code.type),
        error=bindparam("p_error", type_=_COLUMNS.error.type),
        provider_id=func.coalesce(
            bindparam("p_provider_id", type_=_COLUMNS.provider_id.type), Notification.provider_id
        ),
        sent_at=func.coalesce(
            Notification.sent_at, bindparam("p_now", type_=_COLUMNS.sent_at.type)
        ),
    )
    .returning(
        Notification.id,
        Notification.incident_id,
        Notification.person_id,
        Notification.channel,
        Notification.kind,
        Notification.step,
        Notification.scheduled_at,
        Notification.due_at,
        Notification.alert_received_at,
        Notification.sent_at,
        _ORM_INCIDENT_STATE,
    )
    .execution_options(synchronize_session=False)
)


async def orm_mark_sent(
    session: AsyncSession,
    notification_id: int,
    lease: str,
    now: datetime,
    provider_id: str | None,
    code: int | None,
    error: str | None,
) -> Any:
    params = {
        "p_id": notification_id,
        "p_lease": lease,
        "p_code": code,
        "p_error": error,
        "p_provider_id": provider_id or None,
        "p_now": now,
    }
    return (await session.execute(_ORM_MARK_SENT, params)).first()


async def make_incident(session: AsyncSession, state: str = IncidentState.TRIGGERED) -> int:
    version = await session.scalar(select(PolicyVersion))
    if version is None:
        version = PolicyVersion(sha256="0" * 64, body={}, created_at=NOW)
        session.add(version)
        await session.flush()
    count = await session.scalar(select(func.count()).select_from(Incident))
    key = f"group-{count}"
    incident = Incident(
        group_key=key,
        open_key=key,
        source="test",
        title="API down",
        labels={"alertname": "ApiDown"},
        priority="P1",
        original_priority="P1",
        escalation_policy="default",
        policy_version_id=version.id,
        state=state,
        created_at=NOW,
    )
    session.add(incident)
    await session.flush()
    return incident.id


async def make_row(session: AsyncSession, key: str, incident_id: int | None, **changes: Any) -> int:
    """A page claimed and started under LEASE (unless `changes` say otherwise)."""
    row = notification_rows.ordered(
        key,
        incident_id or 0,
        "alice",
        "+15550100",
        Channel.SMS,
        NotificationKind.PAGE,
        "P1",
        2,
        "[P1] API down",
        EARLIER,
        EARLIER - timedelta(minutes=1),
        EARLIER - timedelta(seconds=30),
    )
    row.incident_id = incident_id
    row.state, row.attempts, row.lease = NotificationState.SENDING, 1, LEASE
    row.deadline, row.started_at = NOW + timedelta(seconds=35), NOW - timedelta(seconds=1)
    for name, value in changes.items():
        setattr(row, name, value)
    session.add(row)
    await session.flush()
    return row.id


async def raw(session: AsyncSession, table: str, row_id: int) -> dict[str, Any]:
    """The row as the database holds it, without the columns' types (nor its id
    and key, which differ between the two rows compared)."""
    found = await session.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id})
    values = dict(found.mappings().one())
    values.pop("id")
    values.pop("key", None)
    return values


# --- mark_sent ------------------------------------------------------------------

# name: (the row's columns before, mark_sent's arguments)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "first send": ({}, {"provider_id": "SM1", "code": 201, "error": None}),
    "sent_at kept, sid kept": (
        {"state": NotificationState.UNKNOWN, "sent_at": EARLIER, "provider_id": "SMold"},
        {"provider_id": None, "code": None, "error": None},
    ),
    "empty sid keeps the old one": (
        {"provider_id": "SMold", "error_code": 500, "error": "was"},
        {"provider_id": "", "code": 200, "error": "ok now"},
    ),
    "new sid over the old one": (
        {"provider_id": "SMold"},
        {"provider_id": "SMnew", "code": None, "error": None},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("incident_state", [IncidentState.TRIGGERED, IncidentState.ACKNOWLEDGED])
async def test_mark_sent_writes_and_returns_what_the_orm_update_did(
    db: Database, case: str, incident_state: str
) -> None:
    before, call = CASES[case]
    async with db.write() as session:
        incident = await make_incident(session, incident_state)
        core_id = await make_row(session, "core", incident, **before)
        orm_id = await make_row(session, "orm", incident, **before)
    async with db.write() as session:
        core = await mark_sent(session, core_id, LEASE, NOW, **call)
        orm = await orm_mark_sent(session, orm_id, LEASE, NOW, **call)
    assert core is not None
    assert orm is not None
    assert list(core._mapping) == list(orm._mapping) == SENT_NAMES
    assert core.id == core_id
    core_values, orm_values = dict(core._mapping), dict(orm._mapping)
    core_values.pop("id"), orm_values.pop("id")
    assert core_values == orm_values
    assert {k: type(v) for k, v in core_values.items()} == {
        k: type(v) for k, v in orm_values.items()
    }
    assert core.sent_at.tzinfo is UTC
    assert core.scheduled_at.tzinfo is UTC
    assert core.incident_state == incident_state
    assert core.sent_at == before.get("sent_at", NOW)
    async with db.read() as session:
        core_row = await raw(session, "notifications", core_id)
        orm_row = await raw(session, "notifications", orm_id)
        stored = await session.get(Notification, core_id)
    assert core_row == orm_row
    assert stored is not None
    assert (stored.state, stored.lease, stored.deadline) == (NotificationState.SENT, None, None)
    assert stored.provider_id == (call["provider_id"] or before.get("provider_id"))
    assert (stored.error_code, stored.error) == (call["code"], call["error"])


async def test_mark_sent_of_a_row_of_no_incident(db: Database) -> None:
    async with db.write() as session:
        core_id = await make_row(session, "core", None)
        orm_id = await make_row(session, "orm", None)
    async with db.write() as session:
        core = await mark_sent(session, core_id, LEASE, NOW, "SM1", 201, None)
        orm = await orm_mark_sent(session, orm_id, LEASE, NOW, "SM1", 201, None)
    assert core is not None
    assert orm is not None
    assert (core.incident_id, core.incident_state) == (None, None)
    assert dict(core._mapping) | {"id": 0} == dict(orm._mapping) | {"id": 0}
    async with db.read() as session:
        assert await raw(session, "notifications", core_id) == await raw(
            session, "notifications", orm_id
        )


@pytest.mark.parametrize(
    ("lease", "state"),
    [
        ("0000000000000000", NotificationState.SENDING),  # the lease ran out, another took it
        (LEASE, NotificationState.PENDING),  # taken back
        (LEASE, NotificationState.DELIVERED),  # a callback came first
        (LEASE, NotificationState.FAILED_PERM),
        (LEASE, NotificationState.CANCELLED),
        (LEASE, NotificationState.SENT),
    ],
)
async def test_mark_sent_leaves_a_row_that_is_not_its_lease_s_to_send(
    db: Database, lease: str, state: str
) -> None:
    async with db.write() as session:
        incident = await make_incident(session)
        row_id = await make_row(session, "row", incident, state=state)
    async with db.read() as session:
        before = await raw(session, "notifications", row_id)
    async with db.write() as session:
        assert await mark_sent(session, row_id, lease, NOW, "SM1", 201, None) is None
        assert await orm_mark_sent(session, row_id, lease, NOW, "SM1", 201, None) is None
    async with db.read() as session:
        assert await raw(session, "notifications", row_id) == before


# --- the timeline event -----------------------------------------------------------

DETAIL: dict[str, Any] = {
    "notification_id": 7,
    "person": "alice",
    "channel": Channel.SMS,
    "message": NotificationKind.PAGE,
    "error": None,
    "code": None,
    "nested": {"list": [1, "två", None, True], "float": 0.5},
    "big": 2**63,  # beyond orjson: the standard library's text (store/json_codec.py)
}


async def test_insert_event_writes_the_row_add_event_wrote(db: Database) -> None:
    async with db.write() as session:
        incident = await make_incident(session)
    async with db.write() as session:
        add_event(session, incident, NOW, EventKind.NOTIFICATION_SENT, None, **DETAIL)
        await session.flush()
        await insert_event(session, incident, NOW, EventKind.NOTIFICATION_SENT, None, **DETAIL)
        await insert_event(session, incident, EARLIER, EventKind.ACKNOWLEDGED, "bob", via="api")
        add_event(session, incident, EARLIER, EventKind.ACKNOWLEDGED, "bob", via="api")
    async with db.read() as session:
        ids = list(await session.scalars(select(Event.id).order_by(Event.id)))
        orm_sent, core_sent, core_ack, orm_ack = [
            await raw(session, "incident_events", i) for i in ids
        ]
        events = await timeline(session, incident)
    assert core_sent == orm_sent
    assert core_ack == orm_ack
    assert [(e.kind, e.actor, e.at) for e in events] == [
        (EventKind.ACKNOWLEDGED, "bob", EARLIER),
        (EventKind.ACKNOWLEDGED, "bob", EARLIER),
        (EventKind.NOTIFICATION_SENT, None, NOW),
        (EventKind.NOTIFICATION_SENT, None, NOW),
    ]
    assert events[2].detail == events[3].detail == DETAIL  # the JSON round trip
    assert events[0].detail == events[1].detail == {"via": "api"}
    assert events[2].at.tzinfo is UTC


async def test_events_keep_the_order_they_were_made_in(db: Database) -> None:
    """A Core insert goes out at once, an ORM add at the next flush: what was added
    before it is flushed first, so ids (the timeline's order within an instant)
    follow the order of the calls, as with the ORM alone."""
    async with db.write() as session:
        incident = await make_incident(session)
    async with db.write() as session:
        add_event(session, incident, NOW, EventKind.LEVEL, None, n=1)
        await insert_event(session, incident, NOW, EventKind.NOTIFICATION_SENT, None, n=2)
        add_event(session, incident, NOW, EventKind.LEVEL, None, n=3)
        await insert_event(session, incident, NOW, EventKind.NOTIFICATION_SENT, None, n=4)
    async with db.read() as session:
        events = await timeline(session, incident)
    assert [e.detail["n"] for e in events] == [1, 2, 3, 4]


# --- the reads of every page ------------------------------------------------------


async def test_sent_times_counts_what_the_orm_select_counted(db: Database) -> None:
    window = timedelta(hours=1)
    since = NOW - window
    async with db.write() as session:
        incident = await make_incident(session)
        sent = NotificationState.SENT
        rows: dict[str, dict[str, Any]] = {
            "in the window": {"state": sent, "sent_at": NOW - timedelta(minutes=10)},
            "delivered": {
                "state": NotificationState.DELIVERED,
                "sent_at": NOW - timedelta(minutes=5),
            },
            "exactly a window ago": {"state": sent, "sent_at": since},
            "before the window": {"state": sent, "sent_at": since - timedelta(seconds=1)},
            "being sent": {},
            "being sent again, sent in the window": {
                "state": NotificationState.SENDING,
                "sent_at": NOW - timedelta(minutes=3),
            },
            "being sent again, sent before it": {
                "state": NotificationState.SENDING,
                "sent_at": since - timedelta(minutes=3),
            },
            "unknown, started in it": {
                "state": NotificationState.UNKNOWN,
                "started_at": NOW - timedelta(minutes=20),
            },
            "unknown, started before": {
                "state": NotificationState.UNKNOWN,
                "started_at": since - timedelta(minutes=1),
            },
            "pending": {"state": NotificationState.PENDING, "lease": None, "started_at": None},
            "voice": {"state": sent, "sent_at": NOW, "channel": Channel.VOICE},
            "bob's": {"state": sent, "sent_at": NOW, "person_id": "bob"},
            "info": {"state": sent, "sent_at": NOW, "kind": NotificationKind.INFO},
        }
        for key, changes in rows.items():
            await make_row(session, key, incident, **changes)
    pages = (NotificationKind.PAGE, NotificationKind.BUNDLE)
    async with db.read() as session:
        times = await sent_times(session, "alice", Channel.SMS, since, NOW, pages)
    assert times == [
        NOW - timedelta(minutes=20),
        NOW - timedelta(minutes=10),
        NOW - timedelta(minutes=5),
        NOW,  # being sent: counted as now, each once
        NOW,
        NOW,
    ]
    assert all(t.tzinfo is UTC for t in times)


@pytest.mark.parametrize("db_kind", ["sqlite"])  # PostgreSQL plans by its statistics
async def test_sent_times_reads_a_range_of_the_persons_index(db: Database) -> None:
    """Not every row the person was ever sent: in a storm that is thousands, read
    again at every claim, with the write lock held."""
    ran: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        ran.append((statement, parameters))

    pages = (NotificationKind.PAGE,)
    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with db.read() as session:
            await sent_times(session, "alice", Channel.SMS, EARLIER, NOW, pages)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    statement, parameters = ran[-1]  # what the throttle's read ran, as it ran it
    async with db.read() as session:
        conn = await session.connection()
        plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        steps = [row[-1] for row in plan]
    ranges = (
        "ix_notifications_person_sent (person_id=? AND channel=? AND sent_at>?)",
        "ix_notifications_person_state (person_id=? AND channel=? AND state=?)",
    )
    for index_range in ranges:
        assert any(index_range in step for step in steps), steps


async def test_sent_times_sees_what_this_transaction_has_not_flushed(db: Database) -> None:
    """The ORM select flushed first (autoflush): the throttle counts the rows its
    claim just started. The Core select does the same."""
    async with db.write() as session:
        incident = await make_incident(session)
        row_id = await make_row(session, "row", incident, state=NotificationState.PENDING)
    pages = (NotificationKind.PAGE,)
    async with db.write() as session:
        row = await session.get(Notification, row_id)
        assert row is not None
        assert await sent_times(session, "alice", Channel.SMS, EARLIER, NOW, pages) == []
        row.state = NotificationState.SENDING  # not flushed
        assert await sent_times(session, "alice", Channel.SMS, EARLIER, NOW, pages) == [NOW]
        with session.no_autoflush:  # as the ORM select: no flush asked, none done
            row.state = NotificationState.PENDING
            assert await sent_times(session, "alice", Channel.SMS, EARLIER, NOW, pages) == [NOW]


async def test_page_sent_before(db: Database) -> None:
    async with db.write() as session:
        incident = await make_incident(session)
        other = await make_incident(session)
        this = await make_row(session, "this", incident, sent_at=NOW)
        unsent = await make_row(session, "unsent", incident)
        await make_row(session, "info", incident, kind=NotificationKind.INFO, sent_at=NOW)
        others = await make_row(session, "other incident", other, sent_at=NOW)
    async with db.read() as session:
        assert await page_sent_before(session, incident, this) is False  # not info, not others'
        assert await page_sent_before(session, incident, unsent) is True
        assert await page_sent_before(session, other, others) is False
        assert await page_sent_before(session, other, this) is True
    async with db.write() as session:
        row = await session.get(Notification, unsent)
        assert row is not None
        row.sent_at = NOW  # not flushed: seen, as by the ORM select
        assert await page_sent_before(session, incident, this) is True


# --- through the app ----------------------------------------------------------------

CRITICAL = ("alertname=ApiDown", "severity=critical", "service=api")


async def test_the_timeline_of_accepted_sends_is_the_one_the_orm_recorded(make_harness) -> None:
    """Alice's SMS, then her call a minute later: the timeline the API shows, as the
    ORM recording made it (taken from the code before the Core statements)."""
    h: Harness = await make_harness(BASE)
    incident = await h.fire(*CRITICAL, summary="API is down")
    await h.settle()
    await h.fast_forward(minutes=1)
    h.notifier.expect("alice", "sms")
    h.notifier.expect("alice", "voice")
    detail = await h.incident(incident)
    assert [n["state"] for n in detail["notifications"]][:2] == ["sent", "sent"]
    assert detail["timeline"] == EXPECTED_TIMELINE


EXPECTED_TIMELINE: list[dict[str, Any]] = [
    {
        "at": "2026-01-05T09:00:00+00:00",
        "kind": "opened",
        "actor": "alertmanager",
        "detail": {
            "priority": "P1",
            "escalation": "platform",
            "rule": "rules[0]",
            "title": "ApiDown api",
            "drill": False,
        },
    },
    {
        "at": "2026-01-05T09:00:00+00:00",
        "kind": "level",
        "actor": None,
        "detail": {"level": 1, "loop": 0, "step": 1, "people": ["alice"]},
    },
    {
        "at": "2026-01-05T09:00:00+00:00",
        "kind": "notification_sent",
        "actor": None,
        "detail": {
            "notification_id": 1,
            "person": "alice",
            "channel": "sms",
            "message": "page",
            "error": None,
            "code": None,
        },
    },
    {
        "at": "2026-01-05T09:01:00+00:00",
        "kind": "notification_sent",
        "actor": None,
        "detail": {
            "notification_id": 2,
            "person": "alice",
            "channel": "voice",
            "message": "page",
            "error": None,
            "code": None,
        },
    },
]
