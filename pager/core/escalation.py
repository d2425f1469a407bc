"""The escalation decision: given an incident's state, its policy and `now`,
what happens next. Pure: no I/O, no clock; the engine applies the Decision.

Rules (see README, "Escalation"):
- A new incident enters level 1 at once. Each level pages its people by their
  `notify` rules (filtered by the priority's channels) and waits `ack_timeout`
  (15m on a last level that names none) before the next level.
- After the last level, `repeat` runs the levels again; when they are spent the
  incident is *exhausted*: it stays open and paged, and the timeline says so.
- A level that reaches nobody (empty rotation) is recorded and skipped at once.
- A priority outside its `hours` is held until the window opens.
- `upgrade_after` (counted from when paging began, so time held out of hours
  does not count) turns an unresolved incident into `upgrade_to`; if it is
  still unacknowledged it escalates from level 1 as the new priority.
- `ack_expires`: acknowledged but unresolved for that long means paged again
  from level 1.
- `notify_on_resolve`: everyone paged gets one resolve notice.

Levels are numbered as people say them, from 1 ("level 1"), wherever a person
reads them: timeline events, the API, the CLI. `State.level` is the index into
the policy's levels (0 the first, -1 not paged yet); `level_number` converts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pager.core.hours import in_hours, next_opening
from pager.core.vocabulary import EventKind, IncidentState, NotificationKind
from pager.policy.model import Channel, NotifyRule, Policy, PriorityDef

LAST_LEVEL_TIMEOUT = timedelta(minutes=15)


def level_number(index: int) -> int:
    """The level as people count it: index 0 is level 1 (and -1, not paged yet, is 0)."""
    return index + 1


@dataclass(frozen=True)
class State:
    incident_id: int
    priority: str
    original_priority: str
    escalation_policy: str
    state: str
    created_at: datetime
    acked_at: datetime | None = None
    level: int = -1  # -1: not paged yet
    loop: int = 0
    step: int = 0
    escalate_at: datetime | None = None
    paging_since: datetime | None = None  # when paging began (after any hold)
    held: bool = False
    exhausted: bool = False
    paged: tuple[str, ...] = ()  # people paged so far, for resolve notices


@dataclass(frozen=True)
class Order:
    """A notification to create: the engine renders and stores it."""

    person: str
    channel: Channel
    due_at: datetime
    key: str
    kind: NotificationKind = NotificationKind.PAGE
    step: int = 0
    purpose: str = "page"  # page | resolved | ...


@dataclass(frozen=True)
class Note:
    """A timeline event."""

    kind: EventKind
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    state: State
    next_action_at: datetime | None
    orders: tuple[Order, ...] = ()
    notes: tuple[Note, ...] = ()


Resolve = Callable[[Sequence[str], datetime], tuple[Sequence[str], Sequence[str]]]
"""targets, at -> (people reached, rotations with nobody on call)"""


def decide(state: State, policy: Policy, now: datetime, resolve: Resolve) -> Decision:
    return _Decider(policy, now, resolve).run(state)


class _Decider:
    def __init__(self, policy: Policy, now: datetime, resolve: Resolve) -> None:
        self.policy, self.now, self.resolve = policy, now, resolve
        self.orders: list[Order] = []
        self.notes: list[Note] = []

    def note(self, kind: EventKind, **detail: Any) -> None:
        self.notes.append(Note(kind, detail))

    def done(self, s: State, *times: datetime | None) -> Decision:
        due = [t for t in times if t is not None]
        return Decision(s, min(due) if due else None, tuple(self.orders), tuple(self.notes))

    def prio(self, s: State) -> PriorityDef:
        return self.policy.priorities.get(s.priority) or PriorityDef()

    def run(self, s: State) -> Decision:
        if s.state == IncidentState.RESOLVED:
            return self.resolved(s)
        s = self.maybe_upgrade(s)
        upgrade_at = self.upgrade_at(s)
        if s.state == IncidentState.ACKNOWLEDGED:
            s, expires_at = self.maybe_expire_ack(s)
            if s.state == IncidentState.ACKNOWLEDGED:
                return self.done(s, expires_at, upgrade_at)
        hours = self.prio(s).hours
        if hours != "always" and not in_hours(hours, self.now):
            opens = next_opening(hours, self.now)
            if not s.held:
                self.note(EventKind.HELD, until=opens.isoformat(), priority=s.priority)
            return self.done(replace(s, held=True), opens, upgrade_at)
        if s.held:
            self.note(EventKind.RELEASED, priority=s.priority)
            s = replace(s, held=False)
        if s.paging_since is None:
            s = replace(s, paging_since=self.now)
            upgrade_at = self.upgrade_at(s)
        s = self.escalate(s)
        return self.done(s, s.escalate_at, upgrade_at)

    # --- the timers -------------------------------------------------------

    def upgrade_at(self, s: State) -> datetime | None:
        """Counted from when paging began: a P2 held overnight is not a P1 by morning."""
        prio = self.prio(s)
        if (
            prio.upgrade_to
            and prio.upgrade_after
            and s.priority == s.original_priority
            and s.paging_since is not None
        ):
            return s.paging_since + prio.upgrade_after
        return None

    def maybe_upgrade(self, s: State) -> State:
        due = self.upgrade_at(s)
        if due is None or self.now < due:
            return s
        new = self.prio(s).upgrade_to or s.priority
        self.note(EventKind.UPGRADED, from_priority=s.priority, to_priority=new)
        s = replace(s, priority=new)
        if s.state == IncidentState.TRIGGERED:  # escalate as the new priority, from the top
            s = replace(s, level=-1, loop=0, escalate_at=None, exhausted=False)
        return s

    def maybe_expire_ack(self, s: State) -> tuple[State, datetime | None]:
        expires = self.prio(s).ack_expires
        if expires is None or s.acked_at is None:
            return s, None
        due = s.acked_at + expires
        if self.now < due:
            return s, due
        self.note(EventKind.ACK_EXPIRED, acked_at=s.acked_at.isoformat())
        return replace(
            s,
            state=IncidentState.TRIGGERED,
            acked_at=None,
            level=-1,
            loop=0,
            escalate_at=None,
            exhausted=False,
        ), None

    # --- escalation -------------------------------------------------------

    def escalate(self, s: State) -> State:
        if s.level == -1:
            return self.enter(s, 0, s.loop, self.now)
        if s.exhausted or s.escalate_at is None or self.now < s.escalate_at:
            return s
        return self.advance(s, s.escalate_at)

    def advance(self, s: State, at: datetime) -> State:
        """The next level, counted from `at`, when it was due (a late step keeps the
        schedule of the ones after it)."""
        levels = self.policy.escalation(s.escalation_policy).levels
        if s.level + 1 < len(levels):
            return self.enter(s, s.level + 1, s.loop, at)
        if s.loop < self.policy.escalation(s.escalation_policy).repeat:
            self.note(EventKind.REPEAT, loop=s.loop + 1)
            return self.enter(s, 0, s.loop + 1, at)
        self.note(EventKind.EXHAUSTED, levels=len(levels), loops=s.loop + 1)
        return replace(s, exhausted=True, escalate_at=None)

    def enter(self, s: State, level: int, loop: int, at: datetime) -> State:
        policy = self.policy.escalation(s.escalation_policy)
        spec = policy.levels[level]
        people, empty = self.resolve(spec.targets, self.now)
        step = s.step + 1
        for rotation in empty:
            rotation_id = rotation.removeprefix("rotation:")
            self.note(EventKind.EMPTY_ROTATION, level=level_number(level), rotation=rotation_id)
        s = replace(s, level=level, loop=loop, step=step, exhausted=False)
        number = level_number(level)
        if not people:
            self.note(EventKind.LEVEL_SKIPPED, level=number, loop=loop, reason="nobody to page")
            return self.advance(s, at)
        self.note(EventKind.LEVEL, level=number, loop=loop, step=step, people=list(people))
        for person in people:
            self.page(s, person, step, at)
        timeout = spec.ack_timeout or LAST_LEVEL_TIMEOUT
        paged = tuple(dict.fromkeys([*s.paged, *people]))
        return replace(s, escalate_at=at + timeout, paged=paged)

    def page(self, s: State, person_id: str, step: int, at: datetime) -> None:
        for index, rule in enumerate(self.notify_rules(s, person_id)):
            self.orders.append(
                Order(
                    person=person_id,
                    channel=rule.channel,
                    due_at=max(self.now, at + rule.after),
                    key=f"{s.incident_id}:{step}:{person_id}:{index}",
                    step=step,
                )
            )

    def notify_rules(self, s: State, person_id: str) -> list[NotifyRule]:
        """The person's rules on the priority's channels; never none at all."""
        channels = self.prio(s).channels
        rules = [r for r in self.policy.person(person_id).notify if r.channel in channels]
        return rules or [NotifyRule(channel=channels[0])]

    def resolved(self, s: State) -> Decision:
        if self.prio(s).notify_on_resolve:
            for person in s.paged:
                self.orders.append(
                    Order(
                        person=person,
                        channel=Channel.SMS,
                        due_at=self.now,
                        kind=NotificationKind.INFO,
                        key=f"{s.incident_id}:resolved:{person}",
                        purpose="resolved",
                    )
                )
        return self.done(s)
