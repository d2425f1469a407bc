"""Per-person throttle, so a storm cannot bury anyone (policy `throttle:`).

Beyond the limit a page is not sent on its own: it is folded into one pending
*bundle* per person and channel, sent when the window allows, listing the
incidents still unacknowledged ("3 more incidents: ..."). A reply to a bundle
can acknowledge all of them; a bundle call says the same aloud and its
keypress acts on all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pager.core import page_text
from pager.policy.model import ThrottleLimit
from pager.policy.runtime import PolicyRuntime
from pager.store.incidents import TRIGGERED, add_event
from pager.store.models import Incident, Notification

WINDOWS = ((timedelta(minutes=15), "per_15m"), (timedelta(hours=1), "per_1h"))


class Throttler:
    def __init__(self, policies: PolicyRuntime) -> None:
        self.policies = policies

    def limit(self, channel: str) -> ThrottleLimit:
        throttle = self.policies.active.policy.throttle
        return throttle.voice if channel == "voice" else throttle.sms

    async def free_at(
        self, session: AsyncSession, person: str, channel: str, now: datetime
    ) -> datetime | None:
        """None when the person may get one more message on `channel` now."""
        limit, free = self.limit(channel), None
        for window, name in WINDOWS:
            sent = await _sent_times(session, person, channel, now - window)
            allowed = int(getattr(limit, name))
            if len(sent) >= allowed:
                # The window frees up when enough of the oldest sends age out of it.
                candidate = sent[len(sent) - allowed] + window
                free = candidate if free is None else max(free, candidate)
        return free

    async def hold(self, session: AsyncSession, row: Notification, now: datetime) -> bool:
        """True when the row must wait: a page goes into a bundle, a bundle waits."""
        if row.kind not in ("page", "bundle"):
            return False
        free = await self.free_at(session, row.person_id, row.channel, now)
        if free is None:
            return False
        if row.kind == "bundle":
            row.due_at = free
            return True
        bundle = await self._bundle(session, row, free, now)
        bundle.bundle_of = sorted({*(bundle.bundle_of or []), row.incident_id})
        row.state = "throttled"
        if row.incident_id is not None:
            add_event(
                session,
                row.incident_id,
                now,
                "throttled",
                None,
                person=row.person_id,
                channel=row.channel,
                bundle_due=free.isoformat(),
            )
        return True

    async def _bundle(
        self, session: AsyncSession, row: Notification, due: datetime, now: datetime
    ) -> Notification:
        found = await session.execute(
            select(Notification).where(
                Notification.person_id == row.person_id,
                Notification.channel == row.channel,
                Notification.kind == "bundle",
                Notification.state == "pending",
            )
        )
        bundle = found.scalars().first()
        if bundle is None:
            bundle = Notification(
                key=f"bundle:{row.person_id}:{row.channel}:{int(now.timestamp() * 1000)}",
                incident_id=None,
                person_id=row.person_id,
                phone=row.phone,
                channel=row.channel,
                kind="bundle",
                priority=row.priority,
                step=0,
                body="",
                state="pending",
                due_at=due,
                attempts=0,
                created_at=now,
                bundle_of=[],
            )
            session.add(bundle)
        return bundle

    async def fill_bundle(self, session: AsyncSession, bundle: Notification) -> bool:
        """Write the bundle's text from the incidents still unacknowledged."""
        ids = list(bundle.bundle_of or [])
        rows = await session.execute(
            select(Incident.id, Incident.title, Incident.priority, Incident.drill)
            .where(Incident.id.in_(ids), Incident.state == TRIGGERED)
            .order_by(Incident.id)
        )
        open_ = rows.all()
        if not open_:
            return False
        bundle.bundle_of = [r.id for r in open_]
        top = min(r.priority for r in open_)
        drill = all(r.drill for r in open_)
        listed = [(r.id, r.title) for r in open_]
        # A call reads its body aloud and gathers a key: it must not say
        # "Reply A to ack all" and must end with the keypress menu.
        if bundle.channel == "voice":
            bundle.body = voice_bundle(top, listed, drill=drill)
        else:
            bundle.body = page_text.sms_bundle(top, listed, drill=drill)
        return True


SPOKEN_TITLES = 5  # a call that reads twenty titles is a call people hang up on


def voice_bundle(priority: str, incidents: Sequence[tuple[int, str]], drill: bool = False) -> str:
    """What a bundle call says: the incidents (the first few by title), then the menu."""
    spoken_priority = f"priority {priority[1:]}" if priority[1:].isdigit() else priority
    count = len(incidents)
    named = [
        f"incident {n}, {' '.join(title.split()).strip(' .')}"
        for n, title in incidents[:SPOKEN_TITLES]
    ]
    rest = f"; and {count - len(named)} more" if count > len(named) else ""
    noun = "incident" if count == 1 else "incidents"
    parts = [
        "This is a drill." if drill else "",
        f"This is pager, {spoken_priority}.",
        f"{count} more {noun}: {'; '.join(named)}{rest}.",
        f"For {'it' if count == 1 else 'all of them'}: {page_text.VOICE_MENU}",
    ]
    return " ".join(p for p in parts if p)


async def _sent_times(
    session: AsyncSession, person: str, channel: str, since: datetime
) -> list[datetime]:
    rows = await session.execute(
        select(Notification.sent_at)
        .where(
            Notification.person_id == person,
            Notification.channel == channel,
            Notification.kind.in_(("page", "bundle")),
            # Strictly after: a send exactly one window ago has left the window.
            # With `>=` the window "frees" at `now` itself, the bundle is put
            # back to `now` forever and the engine spins without sending it.
            Notification.sent_at > since,
        )
        .order_by(Notification.sent_at)
    )
    return [t for t in rows.scalars() if t is not None]
