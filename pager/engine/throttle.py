"""Per-person throttle, so a storm cannot bury anyone (policy `throttle:`).

Beyond the limit a page is not sent on its own: it is folded into one pending
*bundle* per person and channel, listing by title the incidents still
unacknowledged, highest priority first ("3 more incidents: #43 ..."). Throttling
bundles, it does not delay: the bundle goes when the limits allow, or at the
latest one `bundle_window` (default 2m) after its first page was folded in,
over the limits if need be, but never two bundles on one channel within one
bundle window. So a new P1 in a storm reaches the person within a bundle window,
and a storm costs them at most one message per bundle window and channel beyond
the limits. A bundle counts against the limits as one message. A reply to a
bundle can acknowledge all of them; a bundle call says the same aloud and its
keypress acts on all of them.

Info messages (stakeholder notices, resolve notices, reminders) are counted
on their own, so they never delay a page, under the same limits; beyond them
they fold into one *digest* ("12 more updates: ..."), which waits for the
limits: it is for reading later, so it has no bundle window.

Messages being sent count as sent, and on PostgreSQL a person's claims are
serialised with an advisory lock, so neither one batch nor several replicas
can slip past the limit together.

Within one claim (one transaction) what a person was sent and their pending
bundle are read once per person and channel, not once per row: in a storm a
claim is mostly one person's pages, each of which asked both again. The claim
keeps them current itself (`changed`) when a row of that person and channel
starts or is cancelled, the only changes the claim makes to either (a held
row is not counted as sent; the bundle it joins is the same row object): a
start is added to the sent times read, a bundle that starts or is cancelled
is forgotten. Nobody else changes them meanwhile: on SQLite this transaction
is the only writer, on PostgreSQL the advisory lock keeps other claims out,
and a result recorded meanwhile only turns a send counted as `now` into its
slightly earlier `sent_at`.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core import page_text
from pager.core.vocabulary import (
    PAGE_KINDS,
    Channel,
    EventKind,
    NotificationKind,
    NotificationState,
)
from pager.engine.policy_runtime import PolicyRuntime
from pager.policy.model import ThrottleLimit
from pager.store import notification_rows
from pager.store.incidents import add_event, triggered_among
from pager.store.models import Notification
from pager.store.notifications import bodies_of, sent_times, waiting_bundle
from pager.store.outbox import advisory_lock

WINDOWS = ((timedelta(minutes=15), "per_15m"), (timedelta(hours=1), "per_1h"))


INFO_KINDS = (NotificationKind.INFO,)
BUNDLE = (NotificationKind.BUNDLE,)
_SENT = "pager_throttle_sent"  # session.info: sent times read in this claim
_BUNDLES = "pager_throttle_bundles"  # session.info: pending bundles found or made


async def _sent_times(
    session: AsyncSession,
    person: str,
    channel: str,
    since: datetime,
    now: datetime,
    kinds: tuple[str, ...],
) -> list[datetime]:
    """`sent_times`, read once per claim for the same question (see the module)."""
    known: dict[tuple[Any, ...], list[datetime]] = session.info.setdefault(_SENT, {})
    key = (person, channel, since, now, kinds)
    if key not in known:
        known[key] = await sent_times(session, person, channel, since, now, kinds)
    return known[key]


class Throttler:
    def __init__(self, policies: PolicyRuntime, postgres: bool = False) -> None:
        self.policies, self.postgres = policies, postgres

    @property
    def window(self) -> timedelta:
        """The policy's bundle window: the longest a page beyond the limits waits."""
        return self.policies.active.policy.throttle.bundle_window

    def limit(self, channel: str) -> ThrottleLimit:
        throttle = self.policies.active.policy.throttle
        return throttle.voice if channel == Channel.VOICE else throttle.sms

    async def free_at(
        self,
        session: AsyncSession,
        person: str,
        channel: str,
        now: datetime,
        kinds: tuple[str, ...] = PAGE_KINDS,
    ) -> datetime | None:
        """None when the person may get one more message of `kinds` on `channel` now."""
        limit, free = self.limit(channel), None
        longest = max(window for window, _ in WINDOWS)
        recent = await _sent_times(session, person, channel, now - longest, now, kinds)
        for window, name in WINDOWS:
            sent = [t for t in recent if t > now - window]
            allowed = int(getattr(limit, name))
            if len(sent) >= allowed:
                # The window frees up when enough of the oldest sends age out of it.
                candidate = sent[len(sent) - allowed] + window
                free = candidate if free is None else max(free, candidate)
        return free

    async def lock(self, session: AsyncSession, rows: Sequence[Notification]) -> None:
        """On PostgreSQL, one claimer per person and channel at a time across replicas
        (until commit). Taken in one sorted order, so two batches cannot deadlock."""
        if self.postgres:
            for person, channel in sorted({(r.person_id, r.channel) for r in rows}):
                await advisory_lock(session, f"throttle:{person}:{channel}")

    async def hold(self, session: AsyncSession, row: Notification, now: datetime) -> bool:
        """True when the row must wait: a page goes into a bundle, a bundle waits;
        an info message goes into a digest, a digest waits."""
        info = row.kind in INFO_KINDS
        kinds = INFO_KINDS if info else PAGE_KINDS
        free = await self.free_at(session, row.person_id, row.channel, now, kinds)
        if free is None:
            return False
        if row.kind == NotificationKind.BUNDLE:
            return await self._hold_bundle(session, row, free, now)
        if info and row.bundle_of is not None:
            row.due_at = free
            return True
        if info:
            digest = await self._pending(
                session, row, NotificationKind.INFO, free, now, digest=True
            )
            digest.bundle_of = [*(digest.bundle_of or []), row.id]
            row.state = NotificationState.THROTTLED
            return True
        bundle = await self._pending(
            session, row, NotificationKind.BUNDLE, min(free, now + self.window), now
        )
        bundle.bundle_of = _joined(bundle.bundle_of or [], row.incident_id)
        row.state = NotificationState.THROTTLED
        if row.incident_id is not None:
            add_event(
                session,
                row.incident_id,
                now,
                EventKind.THROTTLED,
                None,
                person=row.person_id,
                channel=row.channel,
                bundle_due=bundle.due_at.isoformat(),
            )
        return True

    async def _hold_bundle(
        self, session: AsyncSession, bundle: Notification, free: datetime, now: datetime
    ) -> bool:
        """A bundle over the limits still goes once it has gathered for a bundle
        window, if no other bundle went on this channel within one: what a storm
        costs beyond the limits is one message per bundle window, and no page
        waits longer than that."""
        since = now - self.window
        recent = await _sent_times(session, bundle.person_id, bundle.channel, since, now, BUNDLE)
        allowed = max([bundle.created_at + self.window, *(t + self.window for t in recent)])
        due = min(free, allowed)
        if due <= now:
            return False
        bundle.due_at = due
        return True

    async def _pending(
        self,
        session: AsyncSession,
        row: Notification,
        kind: str,
        due: datetime,
        now: datetime,
        digest: bool = False,
    ) -> Notification:
        """The person's pending bundle (or digest) on this channel, made if none."""
        known: dict[tuple[str, str, str], Notification] = session.info.setdefault(_BUNDLES, {})
        key = (row.person_id, row.channel, kind)
        bundle = known.get(key) or await waiting_bundle(session, *key)
        if bundle is None:
            bundle = notification_rows.bundle(row, NotificationKind(kind), due, now, digest)
            session.add(bundle)
        known[key] = bundle
        return bundle

    def changed(self, session: AsyncSession, row: Notification) -> None:
        """`row` starts or is cancelled: what this claim read of its person and
        channel follows. A start counts as sent at the claim's `now` (what the
        query would say of it, as `sending`): it is added to the sent times read,
        not read again; a bundle or digest that starts or is cancelled is no
        longer the one pending. A row sent before (an earlier attempt's `sent_at`)
        was counted then, at that time: for it the sent times are read again."""
        pair = (row.person_id, row.channel)
        bundles: dict[tuple[str, str, str], Notification] = session.info.get(_BUNDLES, {})
        for gone in [k for k, bundle in bundles.items() if bundle is row]:
            del bundles[gone]
        sent: dict[tuple[Any, ...], list[datetime]] = session.info.get(_SENT, {})
        for key in [k for k in sent if k[:2] == pair]:
            _, _, _, now, kinds = key
            if row.sent_at is not None:
                del sent[key]
            elif row.state == NotificationState.SENDING and row.kind in kinds:
                bisect.insort(sent[key], now)

    async def fill_digest(self, session: AsyncSession, digest: Notification) -> bool:
        """Write a digest's text from the info messages folded into it."""
        bodies = [" ".join(b.split()) for b in await bodies_of(session, digest.bundle_of or [])]
        if not bodies:
            return False
        digest.body = page_text.sms_digest(bodies)
        return True

    async def fill_bundle(self, session: AsyncSession, bundle: Notification) -> bool:
        """Write the bundle's text from the incidents still unacknowledged."""
        open_ = await triggered_among(session, list(bundle.bundle_of or []))
        if not open_:
            return False
        bundle.bundle_of = [r.id for r in open_]
        drill = all(r.drill for r in open_)
        listed = [page_text.Bundled(r.id, r.priority, r.title) for r in open_]
        # A call reads its body aloud and gathers a key: it must not say
        # "Reply A to ack all" and must end with the keypress menu.
        text = page_text.voice_bundle if bundle.channel == Channel.VOICE else page_text.sms_bundle
        bundle.body = text(listed, drill=drill)
        return True


def _joined(incident_ids: list[int], incident_id: int | None) -> list[int]:
    """The bundle's sorted ids with one more, as a new list (the ORM sees a new
    value). A storm's bundle holds thousands: sorting them again for every page
    it takes was most of what holding a page cost."""
    if incident_id is None:
        return incident_ids
    at = bisect.bisect_left(incident_ids, incident_id)
    if at < len(incident_ids) and incident_ids[at] == incident_id:
        return incident_ids
    return [*incident_ids[:at], incident_id, *incident_ids[at:]]
