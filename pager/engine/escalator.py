"""The escalation step of the engine: claim due incidents, decide, write, advance.

One transaction per batch: the claim, the decision's notification rows (each
with a unique key), the new escalation position and the timeline events are
committed together or not at all. Nothing is sent here; the sender does that
after commit. A crash anywhere before commit simply leaves the rows due.

The batch is first decided in one transaction and written in one flush (one
UPDATE of the incidents, one INSERT of their pages, one of their events: the
write lock is held a fraction as long as with a flush per incident), with no
savepoint: two statements fewer for every batch. If any incident of it fails
(a bug, a duration that overflows, a value its column cannot hold), that
transaction is rolled back and the batch is claimed again in a new one, each
incident decided in isolation, in its own savepoint: the one that fails is
rolled back, logged with its `incident_id`, counted
(pager_incident_step_errors_total), marked on its timeline and retried with
backoff, while every other incident of the batch goes on. Metrics are counted
only for what was committed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from pager.core import drills, escalation
from pager.core.delivery import backoff
from pager.core.oncall import Overrides, resolve_targets
from pager.core.vocabulary import EventKind, IncidentState
from pager.engine.policy_runtime import PolicyRuntime
from pager.engine.render import render
from pager.engine.stakeholders import announce
from pager.metrics import Metrics
from pager.policy.model import Policy
from pager.store import notification_rows
from pager.store.claims import claim_incidents
from pager.store.db import Database, unavailable
from pager.store.drills import end_unanswered_drill
from pager.store.incidents import add_event, count_events_of, firing_counts
from pager.store.models import Incident, Notification
from pager.store.notifications import reached_people
from pager.store.overrides import in_force

log = logging.getLogger(__name__)
BATCH = 50  # short transactions: webhooks touching these incidents wait less
Counts = list[Callable[[], None]]  # metric updates, made once their writes are flushed


class Ahead(Protocol):
    """Sends claimed in the batch's transaction, to start once it has committed."""

    def start(self) -> None: ...

    def abandon(self) -> None: ...


# The sender's claim made in the batch's own transaction, after its pages are
# written (engine/sender.py `claim_within`; SQLite only), given the batch's incidents
# (current in that transaction: not read again): None when it did not claim.
ClaimAhead = Callable[[AsyncSession, datetime, Mapping[int, Incident]], Awaitable[Ahead | None]]


class Escalator:
    def __init__(
        self,
        db: Database,
        policies: PolicyRuntime,
        metrics: Metrics,
        claim_ahead: ClaimAhead | None = None,
    ) -> None:
        self.db, self.policies, self.metrics = db, policies, metrics
        self.claim_ahead = claim_ahead

    async def run(self, now: datetime) -> int:
        """Handle every due incident; returns how many were handled."""
        counts: Counts = []
        ahead: Ahead | None = None
        try:
            async with self.db.write() as session:
                incidents = await self._claim(session, now)
                if not incidents:
                    return 0
                overrides = await in_force(session, now)
                facts = await _Facts.load(session, incidents)
                await self._together(session, incidents, now, overrides, facts, counts)
                ahead = await self._ahead(session, now, incidents)
        except _BatchFailed:
            return await self._one_by_one(now)  # rolled back: each in its own savepoint
        except BaseException:
            if ahead is not None:
                ahead.abandon()  # rolled back (the commit failed): nothing was claimed
            raise
        if ahead is not None:
            ahead.start()
        for count in counts:
            count()
        return len(incidents)

    async def _ahead(
        self, session: AsyncSession, now: datetime, incidents: Sequence[Incident]
    ) -> Ahead | None:
        """The pages due now claimed in this transaction (see `ClaimAhead`). A claim
        that fails is no reason to lose the batch's decisions: it is rolled back
        and decided again, one by one, without the claim (the send step claims)."""
        if self.claim_ahead is None:
            return None
        try:
            return await self.claim_ahead(session, now, {i.id: i for i in incidents})
        except Exception as exc:
            if unavailable(exc):
                raise
            log.exception("claiming the batch's pages in its transaction failed")
            raise _BatchFailed from exc

    async def _claim(self, session: AsyncSession, now: datetime) -> Sequence[Incident]:
        return await claim_incidents(session, now, BATCH, not self.db.is_sqlite)

    async def _together(
        self,
        session: AsyncSession,
        incidents: Sequence[Incident],
        now: datetime,
        overrides: Overrides,
        facts: _Facts,
        counts: Counts,
    ) -> None:
        """The whole batch in one flush; _BatchFailed if anything of it failed (the
        transaction is then rolled back: nothing of it written, nor counted)."""
        try:
            for incident in incidents:
                await self._step(session, incident, now, overrides, facts, counts)
                incident.step_errors = 0
            await session.flush()
        except Exception as exc:
            if unavailable(exc):
                raise  # the database is gone: nothing else can be decided either
            raise _BatchFailed from exc

    async def _one_by_one(self, now: datetime) -> int:
        async with self.db.write() as session:
            incidents = await self._claim(session, now)
            overrides = await in_force(session, now)
            facts = await _Facts.load(session, incidents)
            for incident in incidents:
                await self._isolated(session, incident, now, overrides, facts)
        return len(incidents)

    async def _isolated(
        self,
        session: AsyncSession,
        incident: Incident,
        now: datetime,
        overrides: Overrides,
        facts: _Facts,
    ) -> None:
        incident_id = incident.id
        counts: Counts = []
        try:
            async with session.begin_nested():
                await self._step(session, incident, now, overrides, facts, counts)
                incident.step_errors = 0
                await session.flush()  # a value the database refuses fails here, in the savepoint
        except Exception as exc:
            if unavailable(exc):
                raise  # the database is gone: nothing else can be decided either
            await self._failed(session, incident_id, now, exc)
            return
        for count in counts:
            count()

    async def _failed(
        self, session: AsyncSession, incident_id: int, now: datetime, exc: Exception
    ) -> None:
        """Rolled back; try again later, with backoff, and say so."""
        self.metrics.incident_step_errors.inc()
        incident = await session.get(Incident, incident_id, populate_existing=True)
        if incident is None:
            return
        incident.step_errors += 1
        retry_at = now + backoff(incident.step_errors)
        incident.next_action_at = retry_at
        error = f"{type(exc).__name__}: {exc}"[:500]
        add_event(
            session,
            incident_id,
            now,
            EventKind.STEP_FAILED,
            None,
            error=error,
            retry_at=retry_at.isoformat(),
        )
        log.error(
            "incident step failed; retrying at %s",
            retry_at.isoformat(),
            exc_info=exc,
            extra={"incident_id": incident_id, "step": "escalate", "attempt": incident.step_errors},
        )

    async def _step(
        self,
        session: AsyncSession,
        incident: Incident,
        now: datetime,
        overrides: Overrides,
        facts: _Facts,
        counts: Counts,
    ) -> None:
        policy = await self.policies.snapshot(incident.policy_version_id)
        due = incident.next_action_at or now
        if incident.state != IncidentState.RESOLVED and drills.over(incident.drill_ends_at, now):
            await end_unanswered_drill(session, incident, now)  # resolved: due again at once
            return
        suppressed = incident.suppressed
        if incident.suppressed and incident.state != IncidentState.RESOLVED:
            # The maintenance window it was opened in has ended: page from now.
            add_event(session, incident.id, now, EventKind.MAINTENANCE_ENDED, None)
            incident.suppressed = False
        # Whoever resolved it needs no notice that it is resolved.
        paged = facts.paged.get(incident.id, ())
        before = _state(incident, tuple(p for p in paged if p != incident.resolved_by))

        def resolve(targets: Sequence[str], at: datetime) -> tuple[Sequence[str], Sequence[str]]:
            found = resolve_targets(policy, targets, at, overrides)
            return found.people, found.empty

        decision = escalation.decide(before, policy, now, resolve)
        # Paging begins now, at once, not after a hold or a maintenance window: these
        # pages may be the incident's first (pager_page_latency_seconds).
        first = before.paging_since is None and not before.held and not suppressed
        _apply(incident, decision)  # first: the pages speak of the new priority
        if decision.orders:
            alert_count = facts.firing.get(incident.id, 0)
            for order in decision.orders:
                timed = first and order.due_at <= now
                session.add(_notification(incident, order, policy, alert_count, now, timed))
        for note in decision.notes:
            add_event(session, incident.id, now, note.kind, None, **note.detail)
            if note.kind == "level":
                counts.append(self.metrics.escalations.labels(decision.state.priority).inc)
            elif note.kind == "exhausted":
                counts.append(self.metrics.exhausted.labels(decision.state.priority).inc)
        await announce(session, policy, incident, now, overrides, facts.notices_told)
        late = max(0.0, (now - due).total_seconds())
        counts.append(lambda: self.metrics.escalation_lateness.observe(late))
        log.debug("incident stepped", extra={"incident_id": incident.id, "step": incident.step})


def _state(incident: Incident, paged: tuple[str, ...]) -> escalation.State:
    return escalation.State(
        incident_id=incident.id,
        priority=incident.priority,
        original_priority=incident.original_priority,
        escalation_policy=incident.escalation_policy,
        state=incident.state,
        created_at=incident.created_at,
        acked_at=incident.acked_at,
        level=incident.level,
        loop=incident.loop,
        step=incident.step,
        escalate_at=incident.escalate_at,
        paging_since=incident.paging_since,
        held=incident.held,
        exhausted=incident.exhausted,
        paged=paged,
    )


def _apply(incident: Incident, decision: escalation.Decision) -> None:
    s = decision.state
    incident.priority, incident.state, incident.acked_at = s.priority, s.state, s.acked_at
    if s.state == IncidentState.TRIGGERED:
        incident.acked_by = None
    incident.level, incident.loop, incident.step = s.level, s.loop, s.step
    incident.escalate_at, incident.held, incident.exhausted = s.escalate_at, s.held, s.exhausted
    incident.paging_since = s.paging_since
    incident.next_action_at = decision.next_action_at
    if s.state != IncidentState.RESOLVED and incident.drill_ends_at is not None:
        # A drill wakes at its deadline to end, whatever else it waits for.
        incident.next_action_at = min(
            decision.next_action_at or incident.drill_ends_at, incident.drill_ends_at
        )


def _notification(
    incident: Incident,
    order: escalation.Order,
    policy: Policy,
    alert_count: int,
    now: datetime,
    first: bool,
) -> Notification:
    person = policy.person(order.person)
    return notification_rows.ordered(
        order.key,
        incident.id,
        person.id,
        person.phone,
        order.channel,
        order.kind,
        incident.priority,
        order.step,
        render(incident, order, alert_count),
        order.due_at,
        now,
        incident.created_at if first else None,
    )


class _BatchFailed(Exception):
    """An incident of the batch failed: decide each one alone."""


@dataclass
class _Facts:
    """What the decisions of one batch need to know besides the incident rows,
    read in two queries for the whole batch, and a third when a stakeholder
    notice is first numbered."""

    ids: tuple[int, ...]
    paged: dict[int, tuple[str, ...]]  # resolved incidents: the people a page reached
    firing: dict[int, int]  # firing alerts, for the page text
    told: dict[int, int] | None = None  # stakeholder notices so far, read when first asked

    @classmethod
    async def load(cls, session: AsyncSession, incidents: Sequence[Incident]) -> _Facts:
        ids = tuple(i.id for i in incidents)
        resolved = [i.id for i in incidents if i.state == IncidentState.RESOLVED]
        return cls(
            ids,
            await reached_people(session, resolved) if resolved else {},
            await firing_counts(session, list(ids)),
        )

    async def notices_told(self, session: AsyncSession, incident_id: int) -> int:
        """How many stakeholder notices the incident had before this batch (one
        query for the batch, not one per incident announced)."""
        if self.told is None:
            kind = EventKind.STAKEHOLDERS_TOLD
            # Before this batch, so what it has added is not flushed for it (a flush
            # mid-batch, of every page and event so far: it is flushed once, at the end).
            with session.no_autoflush:
                self.told = await count_events_of(session, list(self.ids), kind)
        return self.told.get(incident_id, 0)
