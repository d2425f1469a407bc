"""The database schema: SQLAlchemy 2 models. The database holds the truth.

Every instant is stored as UTC (`UTCDateTime` turns SQLite's naive values back
into aware ones). `Incident.open_key` is the group key while the incident is
open and NULL after, so a unique constraint allows one open incident per group
on SQLite and PostgreSQL alike, even when replicas race.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    mapped_column,
    orm_insert_sentinel,
    relationship,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    # SQLite: both layers (the methods above and SQLite DATETIME's own string
    # conversion) in one function each way. Every instant a statement binds or
    # reads went through three Python calls and a %-format of a dict; the same
    # text is stored and read (tests/store/test_utc_datetime.py compares them).
    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name == "sqlite" and _default_storage(self.impl_instance.dialect_impl(dialect)):
            return _sqlite_bind
        return super().bind_processor(dialect)

    def result_processor(
        self, dialect: Dialect, coltype: Any
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.name == "sqlite" and _default_storage(self.impl_instance.dialect_impl(dialect)):
            return _sqlite_result
        return super().result_processor(dialect, coltype)


def _default_storage(impl: Any) -> bool:
    """SQLite DATETIME with its default text form ("2026-12-02 10:53:00.000000")."""
    from sqlalchemy.dialects.sqlite import DATETIME  # SQLite's dialect: only when it is in use

    return (
        isinstance(impl, DATETIME)
        and impl._storage_format == DATETIME._storage_format
        and impl._reg is None
    )


# The last instant bound and its text: a batch binds the same `now` in most of
# its rows. One tuple, swapped whole, so threads (aiosqlite's) never see a pair
# mixed; a datetime is immutable, so the same object always has the same text.
_last_bound: tuple[datetime, str] | None = None


def _sqlite_bind(value: datetime | None) -> str | None:
    global _last_bound
    if value is None:
        return None
    last = _last_bound
    if last is not None and value is last[0]:
        return last[1]
    zone, utc = value.tzinfo, value
    if zone is not UTC:
        if zone is None:
            raise ValueError("naive datetime given to the database")
        utc = value.astimezone(UTC)
    text = utc.isoformat(" ", "microseconds")[:26]  # without its "+00:00"
    _last_bound = (value, text)
    return text


def _sqlite_result(value: str | None) -> datetime | None:
    if value is None:
        return None
    found = datetime.fromisoformat(value)
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class PolicyVersion(Base):
    """A loaded policy, stored once per content hash; incidents keep theirs."""

    __tablename__ = "policy_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class PolicyLoad(Base):
    """Each time a policy version went live, so on-call answers for past times can
    be given with the policy that was running then."""

    __tablename__ = "policy_loads"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"))
    loaded_at: Mapped[datetime] = mapped_column(index=True)


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    group_key: Mapped[str] = mapped_column(Text)
    open_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    source: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    runbook_url: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[dict[str, Any]]
    priority: Mapped[str] = mapped_column(String(16))
    original_priority: Mapped[str] = mapped_column(String(16))
    escalation_policy: Mapped[str] = mapped_column(String(128))
    rule_index: Mapped[int | None]
    policy_version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"))
    state: Mapped[str] = mapped_column(String(16), index=True)  # triggered|acknowledged|resolved
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    drill_ends_at: Mapped[datetime | None]  # a drill still unanswered then ends unanswered
    drill_outcome: Mapped[str | None] = mapped_column(String(16))  # core.drills.DrillOutcome
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)  # maintenance: recorded only
    created_at: Mapped[datetime]
    acked_at: Mapped[datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    # Escalation position; the engine claims rows whose next_action_at is due.
    level: Mapped[int] = mapped_column(Integer, default=-1)  # -1: not paged yet
    loop: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[int] = mapped_column(Integer, default=0)  # +1 on every level entered
    escalate_at: Mapped[datetime | None]
    paging_since: Mapped[datetime | None]
    next_action_at: Mapped[datetime | None] = mapped_column(index=True)
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    exhausted: Mapped[bool] = mapped_column(Boolean, default=False)
    # What stakeholders were last told ("triggered:P1"); the engine tells them changes.
    stakeholders_told: Mapped[str | None] = mapped_column(String(64))
    # Consecutive failed engine steps (a bug or a value the database refuses): the
    # incident is retried with backoff while every other incident goes on.
    step_errors: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reviewed_at: Mapped[datetime | None]
    review_reminded_at: Mapped[datetime | None]

    alerts: Mapped[list[Alert]] = relationship(back_populates="incident", order_by="Alert.id")
    # SQLite numbers new rows in no order its RETURNING promises, so without a
    # column that tells the rows of a many-row INSERT apart, SQLAlchemy inserts
    # them one statement each (to learn each row's id). SQLAlchemy fills this
    # one with a counter of its own in such an INSERT; nothing else reads it.
    _sentinel: Mapped[int | None] = orm_insert_sentinel()


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_incident_fingerprint", "incident_id", "fingerprint", unique=True),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # firing|resolved
    labels: Mapped[dict[str, Any]]
    annotations: Mapped[dict[str, Any]]
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    generator_url: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=1)

    incident: Mapped[Incident] = relationship(back_populates="alerts")


class Event(Base):
    """The incident timeline: append-only."""

    __tablename__ = "incident_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]]
    _sentinel: Mapped[int | None] = orm_insert_sentinel()  # see Incident._sentinel


class Notification(Base):
    """The outbox: one row per message, moved through its states by the sender.

    pending -> sending -> sent -> delivered | failed_temp (retried) | failed_perm
    | unknown | cancelled | throttled. `key` makes a step's page unique.

    A claim writes `lease` (the claimer's token) and `deadline`, and
    `started_at` in the same commit, just before the provider is called. So
    after a crash a `sending` row with `started_at` may have left the process
    (unknown: ask the provider); one without it (claimed by an older version,
    which committed the start apart) surely never did (back to pending).
    `deadline` is when the engine must look at the row again: a claim's expiry,
    an unknown row's lookup, a cancelled row not yet counted in the metrics.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "state", "due_at"),
        Index("ix_notifications_deadline", "state", "deadline"),  # the engine's deadline reads
        # The throttle's window of one person and channel (store/notifications.py
        # `sent_times`): what was sent within it, and what is being sent.
        Index("ix_notifications_person_sent", "person_id", "channel", "sent_at"),
        Index("ix_notifications_person_state", "person_id", "channel", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique and always given: the sentinel by which SQLite's RETURNING rows of a
    # many-row INSERT are matched to their rows (see `Incident._sentinel`).
    key: Mapped[str] = mapped_column(String(255), unique=True, insert_sentinel=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # page|bundle|info
    priority: Mapped[str] = mapped_column(String(16))
    step: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    deadline: Mapped[datetime | None]
    lease: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime | None]  # the current attempt's request started
    scheduled_at: Mapped[datetime | None]  # when its step wanted it sent (due_at moves on retry)
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    error_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    alert_received_at: Mapped[datetime | None]  # for pager_page_latency_seconds
    bundle_of: Mapped[list[Any] | None]  # incident ids folded into a bundle


class Override(Base):
    __tablename__ = "overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[str] = mapped_column(String(128), index=True)
    person_id: Mapped[str] = mapped_column(String(128))
    replaces: Mapped[str | None] = mapped_column(String(128))
    start: Mapped[datetime]
    end: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(128))


class MaintenanceWindow(Base):
    __tablename__ = "maintenance_windows"
    id: Mapped[int] = mapped_column(primary_key=True)
    matchers: Mapped[list[Any]]
    start: Mapped[datetime]
    end: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(128))


class Heartbeat(Base):
    __tablename__ = "heartbeats"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_seen: Mapped[datetime | None]
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))


class ActionItem(Base):
    __tablename__ = "action_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(128))
    due: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="open")  # open|done
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    last_reminded_at: Mapped[datetime | None]


class SharedSecret(Base):
    """A secret every replica must agree on (the console's session signing key),
    made by whichever replica needed it first."""

    __tablename__ = "shared_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class InboundMessage(Base):
    """A Twilio request that acts (an SMS reply, a keypress), kept so a replay of
    it is answered as the first one was instead of acting again. `key` is
    "sms:<MessageSid>" or "voice:<CallSid>:<digits>"; `reply` is the TwiML
    answered (None while the first request is still being handled)."""

    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    received_at: Mapped[datetime]
    reply: Mapped[str | None] = mapped_column(Text)


class CalendarToken(Base):
    """A person's secret calendar-feed token, stored as its SHA-256 only: the
    database never holds what a URL needs, so reading it cannot forge a feed URL.
    One per person; making a new one replaces (and so revokes) the old."""

    __tablename__ = "calendar_tokens"
    person_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class JobRun(Base):
    """One run of a periodic job, claimed by the replica that does it: the primary
    key (job, due time) lets exactly one replica insert it (pager.store.jobs)."""

    __tablename__ = "job_runs"
    job: Mapped[str] = mapped_column(String(160), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(primary_key=True)
    claimed_at: Mapped[datetime]


class ReviewVersion(Base):
    """One saved version of an incident's written review (the blameless template)."""

    __tablename__ = "review_versions"
    __table_args__ = (
        Index("ix_review_versions_incident_version", "incident_id", "version", unique=True),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    sections: Mapped[dict[str, Any]]


class AuditEntry(Base):
    """Who changed what outside an incident's timeline (overrides made and removed,
    calendar links made): append-only."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(160), index=True)  # "rotation:primary"
    detail: Mapped[dict[str, Any]]
