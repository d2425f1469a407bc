"""The alert value: what a webhook says about one alert, the one shape the
store records and the engine classifies.

A plain frozen value, so every layer from the store up can name it without
depending on how it arrived: the wire formats (Alertmanager's payload,
the generic form) are parsed and validated in pager.ingest.payloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


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
