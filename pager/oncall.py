"""Who is on call at an instant: the policy running then, with every override.

Shared by `GET /api/v1/oncall` (and so `pager oncall`) and the console's Now
page, so the browser and the command line can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pager.core.oncall import (
    EscalationReport,
    Overrides,
    RotationReport,
    level_report,
    oncall_report,
)
from pager.services import Pager
from pager.store import overrides as store


@dataclass(frozen=True)
class OnCall:
    at: datetime
    policy_version: int
    rotations: list[RotationReport]
    escalations: list[EscalationReport]


async def database_overrides(pager: Pager) -> Overrides:
    async with pager.db.read() as session:
        return store.by_rotation(await store.list_overrides(session))


async def oncall_at(pager: Pager, at: datetime) -> OnCall:
    """A past instant is answered with the policy that was running then."""
    version_id, policy = await pager.policies.running_at(at)
    overrides = await database_overrides(pager)
    return OnCall(
        at, version_id, oncall_report(policy, at, overrides), level_report(policy, at, overrides)
    )
