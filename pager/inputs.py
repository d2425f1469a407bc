"""What the HTTP edges accept: values the database can hold, checked once, at the edge.

Every id, instant and piece of text a client sends (admin API bodies and
queries, Twilio forms and their `?n=`) is declared with the types below and
parsed by `parse()` before a handler looks at it. A value the database would
refuse is then a 400 naming the field, on SQLite and PostgreSQL alike, before
anything is read or written:

* ids past the INTEGER columns (2**31 - 1), and ids that are digits only to
  Python (`²`, `٣`): ids are ASCII digits;
* instants outside the years 1970-2999 (Python cannot even hold
  `0001-01-01T00:00:00+14:00` in UTC), or without an offset where one is
  needed (`WallClock` times may go without: read in a rotation's zone);
* NUL characters, which PostgreSQL cannot store in text;
* names longer than their String(128) columns, text longer than TEXT_MAX;
* a number, list or object where a string belongs (`"by": 5`), and unknown fields;
* a `by` or `owner` that is no person of the running policy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
)

from pager.core.rotation import local_instant
from pager.core.via import CLI_USER_AGENT, Via
from pager.edge import ApiError, read_json
from pager.policy.model import Policy

INT_MAX = 2**31 - 1  # SQLAlchemy Integer: INTEGER, 4 bytes, on PostgreSQL
NAME_MAX = 128  # person, rotation and actor columns: String(128)
TEXT_MAX = 4096  # reasons, notes, updates, titles
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)
M = TypeVar("M", bound=BaseModel)


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _moment(value: Any) -> datetime:
    """An ISO-8601 time: with an offset, in UTC; without, as written (a wall-clock
    time, for the caller to read in its zone). Either way within the years."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO-8601 time like 2026-03-01T09:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO-8601 time") from None
    try:
        moment = parsed if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # before year 1 or after 9999 once in UTC
        moment = None
    years = (EARLIEST, LATEST) if parsed.tzinfo else (_naive(EARLIEST), _naive(LATEST))
    if moment is None or not years[0] <= moment < years[1]:
        raise ValueError(f"{value!r} is out of range (years 1970 to 2999)")
    return moment


def _naive(instant: datetime) -> datetime:
    return instant.replace(tzinfo=None)


def _instant(value: Any) -> datetime:
    moment = _moment(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} needs an offset, e.g. Z or +01:00")
    return moment


def _id(value: Any) -> Any:
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            raise ValueError(f"{value[:40]!r} is not a number")
        return int(value)
    return value


def in_zone(moment: datetime, zone: ZoneInfo) -> datetime:
    """A `WallClock` value as an instant: one without an offset is read in `zone`
    (a time the clocks skip is the first instant after the jump; a time that
    happens twice, its first occurrence)."""
    return moment if moment.tzinfo is not None else local_instant(moment, zone)


def via_of(request: web.Request) -> Via:
    """Where an admin API call came from: the `pager` command says so by its User-Agent."""
    agent = request.headers.get("User-Agent", "")
    return Via.CLI if agent.startswith(CLI_USER_AGENT) else Via.API


def _known_person(value: str, info: ValidationInfo) -> str:
    policy = (info.context or {}).get("policy")
    if isinstance(policy, Policy) and policy.person_by_id(value) is None:
        raise ValueError(f"{value!r} is not a person in the policy")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX),
    AfterValidator(no_nul),
]
Text = Annotated[str, StringConstraints(max_length=TEXT_MAX), AfterValidator(no_nul)]
Required = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX),
    AfterValidator(no_nul),
]
Instant = Annotated[datetime, BeforeValidator(_instant)]
WallClock = Annotated[datetime, BeforeValidator(_moment)]  # see in_zone
Id = Annotated[int, BeforeValidator(_id), Field(ge=0, le=INT_MAX)]
PersonRef = Annotated[Name, AfterValidator(_known_person)]


class Body(BaseModel):
    """An admin API body: JSON types as declared (no "5" for 5), no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Query(BaseModel):
    """A query string: unknown parameters are ignored, as web clients expect."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def parse(model: type[M], data: Any, policy: Policy | None = None) -> M:
    """`data` as `model`, or a 400 naming the first bad field."""
    try:
        return model.model_validate(data, context={"policy": policy})
    except ValidationError as exc:
        raise ApiError(400, explain(exc), "malformed") from None


async def body(request: web.Request, model: type[M], policy: Policy | None = None) -> M:
    """The request's JSON body (none: `{}`) as `model`; `policy` checks person ids."""
    return parse(model, await read_json(request), policy)


def explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {message}{more}"


def ident(raw: str, name: str) -> int:
    """A row id from a path or query: ASCII digits, within the INTEGER columns."""
    if not (raw.isascii() and raw.isdigit()):
        raise ApiError(400, f"{name} {raw[:40]!r} is not a number", "malformed")
    value = int(raw)
    if value > INT_MAX:
        raise ApiError(400, f"{name} {raw[:40]!r} is out of range", "malformed")
    return value
