"""Webhook bodies, validated: Alertmanager's payload version 4 and the generic form.

Both become a list of `AlertIn` (pager.core.alert): the one shape the store records. Guarantees:
* Validation errors name the field (`alerts.0.labels: ...`) so a sender can
  fix its body; a body that passes is one every database can store: no NUL
  character in any text, no key longer than its column.
* Times are RFC 3339 as Go writes them: any offset, any number of fraction
  digits (truncated to microseconds), read the same whatever the host's time
  zone; Go's zero time (`0001-01-01T00:00:00Z`) means "none". A time that is
  not RFC 3339, or that leaves the calendar once converted to UTC
  (`0001-01-01T00:00:00+14:00`), is a 400.
* A generic alert needs a summary to fire; a resolve needs only its key.
* Alertmanager's `truncatedAlerts` (alerts its `max_alerts` left out of the
  group's webhook) is a count, 0 to 2^64-1 as Go's uint64: else a 400.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from pager.core.alert import AlertIn

GO_ZERO_TIME = "0001-01-01T00:00:00Z"
_GO_ZERO = datetime(1, 1, 1, tzinfo=UTC)
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", re.ASCII)
UINT64_MAX = 2**64 - 1
KEY_MAX = 64  # the column an alert's fingerprint (a generic dedup_key) is stored in
_M = TypeVar("_M", bound="BaseModel")


class PayloadError(ValueError):
    """The body is not what the endpoint takes; the message is for the sender."""


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (\\u0000)")
    return value


def _rfc3339(value: Any) -> Any:
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError(f"{value!r} is not an RFC 3339 time like 2026-01-05T09:00:00Z")
    return value


def _utc(value: datetime) -> datetime | None:
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None
    return None if moment == _GO_ZERO else moment


Text = Annotated[str, AfterValidator(_no_nul)]
Key = Annotated[str, Field(min_length=1, max_length=KEY_MAX), AfterValidator(_no_nul)]
Summary = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_no_nul)]
Labels = dict[Text, Text]
Instant = Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_utc)]


class _AMAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Labels = Field(default_factory=dict)
    startsAt: Instant | None = None
    endsAt: Instant | None = None
    generatorURL: Text = ""
    fingerprint: Key


class _AMPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: Literal["4"]
    status: Literal["firing", "resolved"]
    groupKey: Text = Field(min_length=1)
    alerts: list[_AMAlert]
    receiver: Text = ""
    truncatedAlerts: int = Field(default=0, ge=0, le=UINT64_MAX, strict=True)


# The same payload without the NUL checks, for bodies that cannot hold a NUL: JSON
# writes one only as the escape \u0000, so a body without those six bytes has
# none. Its per-string Python validators were a third of parsing a webhook.
FastKey = Annotated[str, Field(min_length=1, max_length=KEY_MAX)]
_NUL_ESCAPE = b"\\u0000"


class _AMAlertNoNul(_AMAlert):
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    generatorURL: str = ""
    fingerprint: FastKey


class _AMPayloadNoNul(_AMPayload):
    groupKey: str = Field(min_length=1)
    alerts: list[_AMAlertNoNul]  # type: ignore[assignment]
    receiver: str = ""


class _Generic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: Summary | None = None
    labels: Labels = Field(default_factory=dict)
    annotations: Labels = Field(default_factory=dict)
    status: Literal["firing", "resolved"] = "firing"
    dedup_key: Key | None = None


@dataclass(frozen=True, slots=True)
class Webhook:
    """One webhook's alerts, and how many more its sender left out (Alertmanager)."""

    alerts: list[AlertIn]
    truncated: int = 0
    group_key: str = ""


def read_alertmanager(body: bytes) -> Webhook:
    payload = _validate(_AMPayloadNoNul if _NUL_ESCAPE not in body else _AMPayload, body)
    return Webhook(_am_alerts(payload), payload.truncatedAlerts, payload.groupKey)


def read_generic(body: bytes) -> Webhook:
    return Webhook(parse_generic(body))


def parse_alertmanager(body: bytes) -> list[AlertIn]:
    return read_alertmanager(body).alerts


def _am_alerts(payload: _AMPayload) -> list[AlertIn]:
    return [
        AlertIn(
            fingerprint=a.fingerprint,
            status=a.status,
            labels=a.labels,
            annotations=a.annotations,
            group_key=payload.groupKey,
            starts_at=a.startsAt,
            ends_at=a.endsAt,
            generator_url=a.generatorURL,
        )
        for a in payload.alerts
    ]


def parse_generic(body: bytes) -> list[AlertIn]:
    payload = _validate(_Generic, body)
    if payload.summary is None and payload.status == "firing":
        raise PayloadError("summary: Field required (a firing alert needs one)")
    if payload.dedup_key is None and not payload.labels and payload.summary is None:
        raise PayloadError("dedup_key: a resolve needs the dedup_key (or labels) it fired with")
    summary = {"summary": payload.summary} if payload.summary is not None else {}
    key = payload.dedup_key or _label_hash(payload.labels, payload.summary or "")
    return [
        AlertIn(
            fingerprint=key,
            status=payload.status,
            labels=payload.labels,
            annotations={**summary, **payload.annotations},
            group_key=f"generic:{key}",
            source="generic",
        )
    ]


def _validate(model: type[_M], body: bytes) -> _M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise PayloadError(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        return f"body is not valid JSON: {first['msg'].removeprefix('Invalid JSON: ')}"
    where = ".".join(str(p) for p in first["loc"]) or "body"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg'].removeprefix('Value error, ')}{more}"


def _label_hash(labels: dict[str, str], summary: str) -> str:
    canonical = json.dumps([sorted(labels.items()), summary if not labels else ""])
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
