"""The review as the team writes it, and the review held: shared by the admin
API and the console.

The blameless template has five sections (SECTIONS). Each save is a new
version with its author (pager.store.reviews); the incident's timeline says
who saved which version. Holding the review stops the 7-day reminder and is
on the timeline with its date.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core.vocabulary import EventKind
from pager.services import Pager
from pager.store import action_items as action_store
from pager.store import incidents as store
from pager.store import reviews
from pager.store.models import ActionItem, ReviewVersion

SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("what_happened", "What happened", "In plain words, for someone who was not there."),
    ("impact", "Impact", "Who or what was affected, how badly, for how long."),
    ("went_well", "What went well", "What helped: alerts, runbooks, people, tools."),
    ("was_hard", "What was hard", "What slowed the response or confused anyone."),
    (
        "factors",
        "Contributing factors",
        "What made this possible or hard to see: systems and conditions, not culprits.",
    ),
)
SECTION_MAX = 20_000


async def save_written(
    pager: Pager, incident_id: int, author: str | None, sections: dict[str, str]
) -> ReviewVersion:
    """A new version of the review (IncidentNotFound if there is no such incident)."""
    now = pager.clock.now()
    kept = {key: (sections.get(key) or "").strip()[:SECTION_MAX] for key, _, _ in SECTIONS}

    async def work(session: AsyncSession) -> ReviewVersion:
        await store.get_for_update(session, incident_id)
        row = await reviews.save_version(session, incident_id, author, kept, now)
        store.add_event(
            session, incident_id, now, EventKind.REVIEW_WRITTEN, author, version=row.version
        )
        return row

    return await pager.db.transact(work)


async def mark_held(
    pager: Pager, incident_id: int, by: str | None, held_at: datetime, notes: str = ""
) -> None:
    """The team held the review (at `held_at`): the reminder stops."""
    now = pager.clock.now()
    async with pager.db.write() as session:
        incident = await store.get_for_update(session, incident_id)
        incident.reviewed_at = held_at
        store.add_event(
            session,
            incident_id,
            now,
            EventKind.REVIEWED,
            by,
            notes=notes,
            held_on=held_at.isoformat(),
        )


async def add_action_item(
    pager: Pager, incident_id: int, title: str, owner: str, due: datetime, by: str | None
) -> ActionItem:
    now = pager.clock.now()
    async with pager.db.write() as session:
        await store.get_for_update(session, incident_id)
        item = ActionItem(
            incident_id=incident_id, title=title, owner=owner, due=due, state="open", created_at=now
        )
        session.add(item)
        await session.flush()
        store.add_event(
            session,
            incident_id,
            now,
            EventKind.ACTION_ITEM_ADDED,
            by,
            action_item=item.id,
            title=title,
            owner=owner,
            due=due.isoformat(),
        )
    return item


async def change_item(
    pager: Pager, item_id: int, by: str | None, *, owner: str | None = None, done: bool = False
) -> ActionItem | None:
    """Reassign an action item, or close it; None when there is no such item."""
    now = pager.clock.now()
    async with pager.db.write() as session:
        item = await action_store.get_item(session, item_id)
        if item is None:
            return None
        changes: dict[str, str] = {}
        if owner is not None and owner != item.owner:
            item.owner = changes["owner"] = owner
        if done and item.state != "done":
            item.state, item.closed_at = "done", now
            changes["state"] = "done"
        if changes:
            store.add_event(
                session,
                item.incident_id,
                now,
                EventKind.ACTION_ITEM_UPDATED,
                by,
                action_item=item.id,
                changes=changes,
            )
    return item
