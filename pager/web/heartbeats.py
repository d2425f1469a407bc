"""Heartbeats (`/heartbeats`): each dead man's switch of the policy, when it
was last pinged, how often it must be, and its state now.

States, from the same rows the engine's watcher reads: `missing` (an incident
is open for the silence), `late` (past due; the engine opens the incident at
its next step), `ok`, `waiting` (declared `wait_for_first_ping`, never pinged:
not watched yet) and `never pinged` (watched since pager started).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from pager.core.heartbeat import HeartbeatDef, declared
from pager.services import pager_of
from pager.store import heartbeats as store
from pager.web.auth import Identity, Viewer
from pager.web.guard import page
from pager.web.render import render


@dataclass(frozen=True)
class Beat:
    beat: HeartbeatDef
    last_seen: datetime | None
    incident: int | None
    state: str  # missing | late | ok | waiting | never pinged
    due: datetime | None


def beat_state(
    beat: HeartbeatDef, last: datetime | None, incident: int | None, now: datetime
) -> Beat:
    due = last + beat.expect_every if last is not None else None
    if incident is not None:
        state = "missing"
    elif due is not None:
        state = "late" if now >= due else "ok"
    else:
        state = "waiting" if beat.wait_for_first_ping else "never pinged"
    return Beat(beat, last, incident, state, due)


@page
async def heartbeats_page(request: web.Request, identity: Identity, viewer: Viewer) -> web.Response:
    pager = pager_of(request)
    now = pager.clock.now()
    async with pager.db.read() as session:
        rows = {r.name: r for r in await store.all_heartbeats(session)}
    beats = []
    for beat in declared(pager.policies.active.policy):
        row = rows.get(beat.name)
        last, incident = (row.last_seen, row.incident_id) if row else (None, None)
        beats.append(beat_state(beat, last, incident, now))
    context = {"section": "heartbeats", "beats": beats}
    return render(request, "heartbeats.html", context, identity)
