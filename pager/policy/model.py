"""The policy schema: strict pydantic models of what `policies/*.yaml` may say.

Unknown keys are errors (``extra="forbid"``) and models are frozen, so a loaded
policy can be shared by the engine and snapshotted into incidents safely.
Cross-references (a rule naming an escalation policy, a rotation naming people)
are checked by the loader, which can point at the file and line.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)

from pager.policy.durations import (
    Duration,
    PositiveDuration,
    format_duration,
    parse_duration,
)
from pager.policy.errors import PRIORITY_PATTERN


class Channel(StrEnum):
    """How a person is reached (pager.core.vocabulary re-exports it: it is
    defined here because the policy file names it and this layer is the lowest)."""

    SMS = "sms"
    VOICE = "voice"


CHANNELS: tuple[Channel, ...] = (Channel.SMS, Channel.VOICE)
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
ID_MAX = 128  # the database columns that hold ids (person, rotation, policy, heartbeat)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


def _check_id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError(f"invalid id {value!r}: use letters, digits, '-', '_' and '.'")
    if len(value) > ID_MAX:
        raise ValueError(f"id {value[:20]!r}… is {len(value)} characters long: at most {ID_MAX}")
    return value


TimeZone = Annotated[str, AfterValidator(_check_zone)]
Id = Annotated[str, AfterValidator(_check_id)]
Priority = Annotated[str, Field(pattern=PRIORITY_PATTERN)]  # fits its 16-character column


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NotifyRule(Strict):
    channel: Channel
    after: Duration = timedelta(0)


def _default_notify() -> tuple[NotifyRule, ...]:
    return (
        NotifyRule(channel=Channel.SMS),
        NotifyRule(channel=Channel.VOICE, after=timedelta(minutes=1)),
    )


class _Window(Strict):
    """Days of the week and a time of day from/to: a priority's hours, a person's
    working hours (`to` before `from`: the window runs past midnight)."""

    days: str = "mon-sun"
    from_: str = Field(default="00:00", alias="from")
    to: str = "24:00"
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        weekdays(value)
        return value

    @field_validator("from_", "to")
    @classmethod
    def _clock(cls, value: str) -> str:
        minutes_of(value)
        return value


class WorkingHours(_Window):
    """When a person works, in their own `timezone`: pages outside count as out of
    hours in `pager report`. Without it: Monday to Friday, 09:00 to 17:00."""

    days: str = "mon-fri"
    from_: str = Field(default="09:00", alias="from")
    to: str = "17:00"

    def in_zone(self, timezone: str) -> Hours:
        return Hours(days=self.days, from_=self.from_, to=self.to, timezone=timezone)


def _notice_text(value: timedelta | str | None) -> str | None:
    return format_duration(value) if isinstance(value, timedelta) else value


def _notice(value: object) -> object:
    """`off`, or a duration more than zero (a person's `handoff_notice`)."""
    if value is False or value == "off":  # YAML reads a bare `off` as false
        return "off"
    if value is None or isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"handoff_notice must be a duration like 1h, or off; got {value!r}")
    parsed = parse_duration(value)
    if parsed <= timedelta(0):
        raise ValueError("handoff_notice must be more than zero (or off)")
    return parsed


class Person(Strict):
    id: Id
    name: str = ""
    phone: str
    email: str | None = None  # matched by the console's sign-in through a proxy header
    timezone: TimeZone = "UTC"
    notify: tuple[NotifyRule, ...] = Field(default_factory=_default_notify, min_length=1)
    working_hours: WorkingHours = WorkingHours()
    # An SMS this long before each of their shifts begins ("off": never); unset:
    # as the rotation's `handoff_notice` says.
    handoff_notice: Annotated[
        timedelta | Literal["off"] | None,
        BeforeValidator(_notice),
        PlainSerializer(_notice_text),
    ] = None

    @property
    def hours(self) -> Hours:
        return self.working_hours.in_zone(self.timezone)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str) -> str:
        if not _E164.fullmatch(value):
            raise ValueError(f"phone {value!r} is not E.164 (like +15550100001)")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.fullmatch(value):
            raise ValueError(f"email {value!r} is not an address like alice@example.com")
        return value


class RotationOverride(Strict):
    """A person takes the rotation (or one member's turns) for a while."""

    person: Id
    start: datetime
    end: datetime
    replaces: Id | None = None  # None: the whole rotation


class Rotation(Strict):
    id: Id
    timezone: TimeZone = "UTC"
    shift: Duration
    handoff: datetime  # naive: a local start of one shift in `timezone`
    members: tuple[Id, ...] = Field(min_length=0)
    overrides: tuple[RotationOverride, ...] = ()
    handoff_notice: PositiveDuration | None = None  # an SMS this long before each handoff

    @field_validator("shift")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1):
            raise ValueError("shift must be at least 1m")
        return value

    @field_validator("handoff")
    @classmethod
    def _naive(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError("handoff is a local time in the rotation's timezone: drop the offset")
        return value


class Level(Strict):
    targets: tuple[str, ...] = Field(min_length=1)
    ack_timeout: PositiveDuration | None = None  # None only on the last level

    @field_validator("targets")
    @classmethod
    def _target_form(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for target in value:
            kind, _, ident = target.partition(":")
            if kind not in ("rotation", "person") or not ident:
                raise ValueError(f"target {target!r} must be rotation:ID or person:ID")
        return value


class EscalationPolicy(Strict):
    id: Id
    repeat: int = Field(default=0, ge=0, le=20)
    levels: tuple[Level, ...] = Field(min_length=1)


class Hours(_Window):
    timezone: TimeZone = "UTC"


def weekdays(spec: str) -> frozenset[int]:
    """``mon-fri,sun`` -> {0,1,2,3,4,6}; raises ValueError on a bad name."""
    days: set[int] = set()
    for part in spec.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in _WEEKDAYS or (last and last not in _WEEKDAYS):
            raise ValueError(f"invalid days {spec!r}: use e.g. mon-fri or sat,sun")
        a, b = _WEEKDAYS.index(first), _WEEKDAYS.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(days)


def minutes_of(clock: str) -> int:
    """``09:30`` -> 570; ``24:00`` allowed as the end of a day."""
    match = re.fullmatch(r"(\d{2}):(\d{2})", clock)
    if (
        not match
        or int(match[1]) > 24
        or int(match[2]) > 59
        or (match[1] == "24" and match[2] != "00")
    ):
        raise ValueError(f"invalid time of day {clock!r}: use HH:MM")
    return int(match[1]) * 60 + int(match[2])


class PriorityDef(Strict):
    description: str = ""
    channels: tuple[Channel, ...] = CHANNELS
    hours: Literal["always"] | Hours = "always"
    stakeholders: tuple[str, ...] = ()
    ack_expires: PositiveDuration | None = None
    notify_on_resolve: bool = False
    upgrade_to: Priority | None = None
    upgrade_after: Duration | None = None


class ThrottleLimit(Strict):
    per_15m: int = Field(ge=1)
    per_1h: int = Field(ge=1)


BUNDLE_WINDOW_MIN, BUNDLE_WINDOW_MAX = timedelta(seconds=30), timedelta(minutes=15)


def _bundle_window(value: timedelta) -> timedelta:
    # Shorter, and the bundles a storm may send beyond the limits (one per window)
    # would bury the person after all; longer than the 15-minute limit window
    # would hold a new page longer than the limit alone ever did.
    if not BUNDLE_WINDOW_MIN <= value <= BUNDLE_WINDOW_MAX:
        raise ValueError(
            f"must be between {format_duration(BUNDLE_WINDOW_MIN)} and "
            f"{format_duration(BUNDLE_WINDOW_MAX)} (e.g. 2m)"
        )
    return value


class Throttle(Strict):
    # How long pages beyond the limits wait to be bundled: the bundle goes out
    # then even over the limits (engine/throttle.py), so a page waits at most this.
    bundle_window: Annotated[Duration, AfterValidator(_bundle_window)] = timedelta(minutes=2)
    sms: ThrottleLimit = ThrottleLimit(per_15m=5, per_1h=11)
    voice: ThrottleLimit = ThrottleLimit(per_15m=3, per_1h=7)


class HeartbeatSpec(Strict):
    expect_every: PositiveDuration
    priority: Priority
    escalation: Id
    # true: silent until the first ping arrives (GoAlert's "inactive"); false: a
    # never-pinged heartbeat is missing `expect_every` after start (a pipeline
    # that never worked pages too)
    wait_for_first_ping: bool = False


class Rule(Strict):
    matchers: tuple[str, ...] = Field(min_length=1)
    priority: Priority | None = None
    escalation: Id | None = None
    runbook: str | None = None
    group_by: tuple[str, ...] | None = None  # None: Alertmanager's groupKey
    heartbeat: HeartbeatSpec | None = None


class Default(Strict):
    priority: Priority
    escalation: Id


class Heartbeat(Strict):
    """A heartbeat pinged by `POST /api/v1/heartbeats/{name}`."""

    name: Id
    expect_every: PositiveDuration
    priority: Priority
    escalation: Id
    wait_for_first_ping: bool = False  # as HeartbeatSpec's


class Policy(Strict):
    """All policy files of a directory, merged."""

    people: tuple[Person, ...] = ()
    rotations: tuple[Rotation, ...] = ()
    escalation_policies: tuple[EscalationPolicy, ...] = ()
    priorities: dict[Priority, PriorityDef] = Field(default_factory=dict)
    throttle: Throttle = Throttle()
    rules: tuple[Rule, ...] = ()
    heartbeats: tuple[Heartbeat, ...] = ()
    default: Default | None = None

    def person(self, ident: str) -> Person:
        return next(p for p in self.people if p.id == ident)

    def person_by_id(self, ident: str) -> Person | None:
        return next((p for p in self.people if p.id == ident), None)

    def person_by_email(self, email: str) -> Person | None:
        wanted = email.casefold()
        return next((p for p in self.people if p.email and p.email.casefold() == wanted), None)

    def person_by_phone(self, phone: str) -> Person | None:
        return next((p for p in self.people if p.phone == phone), None)

    def rotation(self, ident: str) -> Rotation:
        return next(r for r in self.rotations if r.id == ident)

    def escalation(self, ident: str) -> EscalationPolicy:
        return next(e for e in self.escalation_policies if e.id == ident)
