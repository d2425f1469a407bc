"""Live updates for open consoles: one watcher per process, any number of streams.

Guarantees:
* One design for both sources of change. This process pokes the watcher when
  it changes something (ingest, an action, an engine step); other replicas'
  changes are noticed because the watcher also looks every `interval`. Either
  way the watcher asks the database one cheap question (the newest timeline
  event id) and tells every stream only if the answer moved.
* Bounded: one database check per interval (or poke, at most one per
  `min_gap`) for all streams together, none at all while no console is open,
  a cap on streams, and per stream a coalesced change plus a few
  announcements, never an unbounded queue.
* Nothing is missed: a stream says which change its page was built at
  (`since`); if the world has moved on, it hears so at once.
* Closed on shutdown: `close()` ends every stream, so the server stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from pager.store import changes
from pager.store.db import UNAVAILABLE, Database
from pager.store.models import Incident

log = logging.getLogger(__name__)
MAX_STREAMS = 1000
MAX_ANNOUNCEMENTS = 5


class TooManyStreams(RuntimeError):
    pass


@dataclass(frozen=True)
class Opened:
    incident_id: int
    text: str  # "New P1 incident #42: HighErrorRate api", for the live region


@dataclass(frozen=True)
class Change:
    marker: int  # the newest timeline event id
    opened: tuple[Opened, ...] = ()
    baseline: bool = False  # only says where things are (the watcher just woke up)


@dataclass(eq=False)  # hashed by identity: one per stream
class Subscription:
    since: int | None  # the change the stream's page has seen; None: whatever is now
    closed: bool = False
    _opened: list[Opened] = field(default_factory=list)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, change: Change) -> None:
        if change.baseline and self.since in (None, change.marker):
            self.since = change.marker  # nothing the page has not seen
            return
        self.since = change.marker
        self._opened = [*self._opened, *change.opened][-MAX_ANNOUNCEMENTS:]
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def next(self, wait: float) -> Change | None:
        """The change since the last call (coalesced), or None after `wait` seconds or close."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), wait)
        if self.closed or not self._ready.is_set():
            return None
        self._ready.clear()
        opened, self._opened = tuple(self._opened), []
        return Change(self.since or 0, opened)


class Broadcaster:
    def __init__(self, db: Database, interval: float) -> None:
        self.db, self.interval = db, interval
        self.min_gap = min(0.2, interval)
        self.marker = 0
        self.checks = 0  # database checks made (all subscribers together)
        self._subs: set[Subscription] = set()
        self._poked = asyncio.Event()
        self._joined = asyncio.Event()
        self._idle = True  # nobody watching: no checks; `marker` may be stale
        self._closed = False

    def poke(self) -> None:
        """Something changed here: look now rather than at the next interval."""
        self._poked.set()

    def join(self, since: int | None) -> Subscription:
        """A new stream's subscription; `leave()` it when the stream ends."""
        if len(self._subs) >= MAX_STREAMS:
            raise TooManyStreams(f"more than {MAX_STREAMS} live streams")
        sub = Subscription(since, closed=self._closed)
        self._subs.add(sub)
        if self._idle:
            self._joined.set()  # the watcher wakes, and its first look answers `since`
        elif since is not None and since != self.marker:
            sub.push(Change(self.marker))
        return sub

    def leave(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    @property
    def streams(self) -> int:
        return len(self._subs)

    async def run(self) -> None:
        """The watcher: runs until close(), idle while no stream is open."""
        while not self._closed:
            if not self._subs:
                self._idle = True
                self._joined.clear()
                await self._joined.wait()
                continue
            if self._idle:
                self._idle = not await self._guarded(baseline=True)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poked.wait(), self.interval)
            self._poked.clear()
            if not self._closed:
                await self._guarded()
                await asyncio.sleep(self.min_gap)  # coalesce bursts of pokes

    async def _guarded(self, baseline: bool = False) -> bool:
        try:
            await self.check(baseline)
            return True
        except UNAVAILABLE as exc:
            log.warning("live updates: database unavailable: %s", exc)
            await asyncio.sleep(self.interval)
            return False

    async def check(self, baseline: bool = False) -> None:
        async with self.db.read() as session:
            latest = await changes.latest_event_id(session)
            self.checks += 1
            if latest == self.marker and not baseline:
                return
            opened = () if baseline else await changes.opened_after(session, self.marker)
        self.marker = latest
        change = Change(latest, tuple(announcement(i) for i in opened), baseline)
        for sub in self._subs:
            sub.push(change)

    def close(self) -> None:
        self._closed = True
        self._poked.set()
        self._joined.set()
        for sub in self._subs:
            sub.close()


def announcement(incident: Incident) -> Opened:
    what = "drill" if incident.drill else "incident"
    note = " (maintenance: recorded, not paged)" if incident.suppressed else ""
    text = f"New {incident.priority} {what} #{incident.id}: {incident.title}{note}"
    return Opened(incident.id, text)
