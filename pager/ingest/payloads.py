"""Webhook bodies, validated: Alertmanager's payload version 4 and the generic form.

Both become a list of `AlertIn`: the one shape the store records. Validation
errors name the field (`alerts.0.labels: ...`) so a sender can fix its body.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

GO_ZERO_TIME = "0001-01-01T00:00:00Z"
_M = TypeVar("_M", bound="BaseModel")


class PayloadError(ValueError):
    """The body is not what the endpoint takes; the message is for the sender."""


@dataclass(frozen=True, slots=True)
class AlertIn:
    fingerprint: str
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str]
    group_key: str  # alerts of one group form one incident (per matching rule)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str = ""
    source: str = "alertmanager"


class _AMAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str = ""
    fingerprint: str = Field(min_length=1, max_length=64)


class _AMPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: Literal["4"]
    status: Literal["firing", "resolved"]
    groupKey: str = Field(min_length=1)
    alerts: list[_AMAlert]
    receiver: str = ""


class _Generic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str = Field(min_length=1, max_length=1024)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    status: Literal["firing", "resolved"] = "firing"
    dedup_key: str | None = Field(default=None, min_length=1, max_length=200)


def parse_alertmanager(body: bytes) -> list[AlertIn]:
    payload = _validate(_AMPayload, body)
    return [
        AlertIn(
            fingerprint=a.fingerprint,
            status=a.status,
            labels=a.labels,
            annotations=a.annotations,
            group_key=payload.groupKey,
            starts_at=_time(a.startsAt),
            ends_at=_time(a.endsAt),
            generator_url=a.generatorURL,
        )
        for a in payload.alerts
    ]


def parse_generic(body: bytes) -> list[AlertIn]:
    payload = _validate(_Generic, body)
    annotations = {"summary": payload.summary, **payload.annotations}
    key = payload.dedup_key or _label_hash(payload.labels, payload.summary)
    return [
        AlertIn(
            fingerprint=key,
            status=payload.status,
            labels=payload.labels,
            annotations=annotations,
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
    return f"{where}: {first['msg']}{more}"


def _time(text: str | None) -> datetime | None:
    if not text or text == GO_ZERO_TIME:
        return None
    # Go sends nanoseconds; Python keeps microseconds.
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(ch for ch in rest if ch.isdigit())
        rest = digits[:6] + rest[len(digits) :]
        text = f"{head}.{rest}"
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _label_hash(labels: dict[str, str], summary: str) -> str:
    canonical = json.dumps([sorted(labels.items()), summary if not labels else ""])
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
