"""Recording webhook alerts into incidents, a batch of webhooks at a time, set-based.

Guarantees:
* `record_batch(session, parts, now)` leaves the database as recording each
  part alone, in order, would (`pager.store.alert_fold` says how), in a fixed
  number of statements whatever the batch's size: the open incidents it
  touches in one query, their alerts in one more, then one statement per
  table: the pages of resolved incidents cancelled, those incidents resolved, the new
  incidents inserted (RETURNING their ids), the new alerts inserted, the stored
  alerts it changed updated by id in the columns changed (one executemany per
  set of columns: a refire, a resolve), the timeline events inserted.
* On PostgreSQL the open incidents a batch touches are locked as they are read
  (FOR KEY SHARE, in id order): a replica resolving one of them meanwhile
  either waits for our commit or has committed first, and then we see it
  closed and open a new incident; the engine's claims do not conflict. A
  replica that opened the same group's incident first makes our insert fail on
  the unique `open_key` (or, for an alert it added to an incident we read, on
  the alert's (incident, fingerprint)); the caller's `Database.transact` runs the
  batch again and then finds it. Pages are cancelled before the incident rows are written
  (LOCK ORDER in `pager.store.incidents`).
* Callers own the transaction; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, bindparam, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.alert import AlertIn
from pager.core.vocabulary import IncidentState, NotificationKind, NotificationState
from pager.store.alert_batch import (
    Classified,
    Folded,
    Outcome,
    Pair,
    Part,
    Read,
    ReadIncident,
    Row,
    Working,
)
from pager.store.alert_fold import fold
from pager.store.chunks import chunks
from pager.store.models import Alert, Event, Incident, Notification

_INCIDENTS, _ALERTS, _EVENTS = (cast(Table, m.__table__) for m in (Incident, Alert, Event))
_NOTIFICATIONS = cast(Table, Notification.__table__)
_ALERT_ID = "alert_id"  # the UPDATE's bound primary key (not a column's name)


async def record_batch(
    session: AsyncSession,
    parts: Sequence[Part],
    now: datetime,
    classified: Classified | None = None,
) -> list[Outcome[Working]]:
    """Fold the parts' alerts into incidents: open, update, resolve. Results per part,
    their incidents with ids. `classified` may hold the batch's classifications already.
    On SQLite the whole batch runs on the connection's own thread, in one trip to it
    (`pager.store.alert_sqlite`); on PostgreSQL each statement is one round trip."""
    cache = classified or Classified()

    def work(conn: Connection) -> list[Outcome[Working]]:
        return _record(conn, parts, now, cache)

    if session.get_bind().dialect.name == "sqlite":
        from pager.store.alert_sqlite import on_connection_thread  # SQLite's dialect only there

        return await on_connection_thread(session, work)
    return await session.run_sync(lambda sync: work(sync.connection()))


def _record(
    conn: Connection, parts: Sequence[Part], now: datetime, classified: Classified
) -> list[Outcome[Working]]:
    keys = {_key(classified, p, a) for p in parts for a in p.alerts}
    read = Read()
    _read_open(conn, read, keys)
    folded = fold(parts, read, classified, now)
    while folded.needs:  # rare: a resolve whose key has no open incident
        _read_holders(conn, read, folded.needs)
        folded = fold(parts, read, classified, now)
    _write(conn, folded, now)
    return folded.results


def _key(classified: Classified, part: Part, alert: AlertIn) -> str:
    return classified.key(part.ctx.classify, alert)[1]


def _locked(query: Select[Any]) -> Select[Any]:
    # FOR KEY SHARE: a resolve elsewhere (which clears the unique open_key, a FOR
    # UPDATE) waits for us, or we for it and then see the incident closed; the
    # engine's claims (FOR NO KEY UPDATE) do not wait for us, nor we for them.
    # SQLite renders no FOR clause (its writers take turns anyway).
    return query.with_for_update(of=_INCIDENTS, key_share=True, read=True)


_READ_COLUMNS = (_INCIDENTS.c.id, _INCIDENTS.c.open_key, _INCIDENTS.c.group_key, _INCIDENTS.c.state)
# Built once with bound parameters (an expanding IN list): building a statement
# and its cache key at each batch cost more than running it.
_OPEN = _locked(
    select(*_READ_COLUMNS)
    .where(_INCIDENTS.c.open_key.in_(bindparam("keys", expanding=True)))
    .order_by(_INCIDENTS.c.id)
)
# What the fold needs of an alert already stored: it writes only the columns it
# changes (by id), so labels, annotations and times are not read (nor decoded).
_ALERTS_OF = select(
    _ALERTS.c.id, _ALERTS.c.incident_id, _ALERTS.c.fingerprint, _ALERTS.c.status, _ALERTS.c.count
).where(_ALERTS.c.incident_id.in_(bindparam("ids", expanding=True)))
_CANCEL_PAGES = (
    update(_NOTIFICATIONS)
    .where(
        _NOTIFICATIONS.c.incident_id.in_(bindparam("ids", expanding=True)),
        _NOTIFICATIONS.c.state == NotificationState.PENDING,
        _NOTIFICATIONS.c.kind == NotificationKind.PAGE,
    )
    .values(state=NotificationState.CANCELLED)
)
_RESOLVE = (
    update(_INCIDENTS)
    .where(_INCIDENTS.c.id.in_(bindparam("ids", expanding=True)))
    .values(state=IncidentState.RESOLVED, resolved_by=None, open_key=None)
    .values(resolved_at=bindparam("now"), next_action_at=bindparam("now"))
    # next_action_at: the engine sends notify_on_resolve notices
)
_INSERT_INCIDENTS = insert(_INCIDENTS).returning(_INCIDENTS.c.id, sort_by_parameter_order=True)
_INSERT_ALERTS, _INSERT_EVENTS = insert(_ALERTS), insert(_EVENTS)
# SET takes the columns of the rows given (an executemany of rows alike).
_UPDATE_ALERT = update(_ALERTS).where(_ALERTS.c.id == bindparam(_ALERT_ID))


def _read_open(conn: Connection, read: Read, keys: set[str]) -> None:
    found: list[int] = []
    for chunk in chunks(sorted(keys)):
        found += _remember(read, conn.execute(_OPEN, {"keys": chunk}))
    _read_alerts(conn, read, found)


def _read_holders(conn: Connection, read: Read, pairs: set[Pair]) -> None:
    """Open incidents holding these (group key, fingerprint) alerts firing."""
    found: list[int] = []
    for chunk in chunks(sorted(pairs)):
        query = (
            select(*_READ_COLUMNS)
            .join(_ALERTS, _ALERTS.c.incident_id == _INCIDENTS.c.id)
            .where(
                _INCIDENTS.c.open_key.is_not(None),
                _ALERTS.c.status == "firing",
                tuple_(_INCIDENTS.c.group_key, _ALERTS.c.fingerprint).in_(chunk),
            )
            .order_by(_INCIDENTS.c.id)
        )
        found += _remember(read, conn.execute(_locked(query)))
    read.pairs |= pairs
    _read_alerts(conn, read, found)


def _remember(read: Read, rows: Iterable[Any]) -> list[int]:
    new = []
    for row in rows:
        if row.id not in read.incidents:
            read.incidents[row.id] = ReadIncident(row.id, row.open_key, row.group_key, row.state)
            new.append(row.id)
    return new


def _read_alerts(conn: Connection, read: Read, incident_ids: list[int]) -> None:
    for chunk in chunks(incident_ids):
        for alert_id, incident_id, fingerprint, status, count in conn.execute(
            _ALERTS_OF, {"ids": chunk}
        ):
            read.alerts.setdefault(incident_id, {})[fingerprint] = {
                _ALERT_ID: alert_id,
                "fingerprint": fingerprint,
                "status": status,
                "count": count,
            }


def _write(conn: Connection, folded: Folded, now: datetime) -> None:
    resolved = [w.id for w in folded.resolved if w.id is not None]
    for ids in chunks(resolved):
        conn.execute(_CANCEL_PAGES, {"ids": ids})  # first: see LOCK ORDER
        conn.execute(_RESOLVE, {"ids": ids, "now": now})
    for opened in chunks(folded.opened):
        rows = [w.values for w in opened if w.values is not None]  # all: they are opened
        new_ids = conn.scalars(_INSERT_INCIDENTS, rows)
        for incident, new_id in zip(opened, new_ids, strict=True):
            incident.id = new_id
    _write_alerts(conn, folded)
    events = [{**row, "incident_id": w.id} for w, row in folded.events]
    for piece in chunks(events):
        conn.execute(_INSERT_EVENTS, piece)


def _write_alerts(conn: Connection, folded: Folded) -> None:
    """New alerts inserted whole; stored ones updated by id, only in the columns the
    fold set (a JSON column re-encoded only when it changed: annotations on a refire)."""
    new: list[Row] = []
    changed: dict[frozenset[str], list[Row]] = {}  # rows alike, for one executemany
    for w, row in folded.alerts.values():
        if _ALERT_ID in row:
            values = {k: v for k, v in row.items() if k != "fingerprint"}
            changed.setdefault(frozenset(values), []).append(values)
        else:
            new.append({**row, "incident_id": w.id})
    for chunk in chunks(new):
        conn.execute(_INSERT_ALERTS, chunk)
    for rows in changed.values():
        for chunk in chunks(rows):
            conn.execute(_UPDATE_ALERT, chunk)
