"""Handoff notices: an SMS to whoever comes on call, a set time before the handoff.

Run by the scheduler every minute on every replica; each handoff is a run of
the job `handoff:<rotation>` due at the handoff instant, claimed once per
cluster (pager.engine.jobs), so one person gets one notice per handoff
however many replicas there are. Notices are info messages (never pages):
the sender delivers them, the throttle counts them apart from pages. The
decision is the pure core's (pager.core.handoff); the text is page_text's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from pager.clock import Clock
from pager.core import page_text
from pager.core.handoff import Notice, due_notices
from pager.engine.jobs import Work, once
from pager.engine.policy_runtime import PolicyRuntime
from pager.store import notification_rows
from pager.store import overrides as override_store
from pager.store.db import Database

log = logging.getLogger(__name__)


class HandoffNotices:
    def __init__(
        self, db: Database, clock: Clock, policies: PolicyRuntime, wake: Callable[[], None]
    ) -> None:
        self.db, self.clock, self.policies, self.wake = db, clock, policies, wake

    async def run(self) -> int:
        """Queue every notice that is due now; returns how many this replica queued."""
        now = self.clock.now()
        policy = self.policies.active.policy
        async with self.db.read() as session:
            overrides = override_store.by_rotation(
                await override_store.list_overrides(session, now)
            )
        queued = 0
        for notice in due_notices(policy, overrides, now):
            phone = policy.person(notice.person).phone
            work = _queue(notice, phone, now)
            if await once(self.db, f"handoff:{notice.rotation}", notice.start, now, work):
                log.info(
                    "handoff notice queued",
                    extra={"person": notice.person, "rotation": notice.rotation},
                )
                queued += 1
        if queued:
            self.wake()
        return queued


def _queue(notice: Notice, phone: str, now: datetime) -> Work:
    async def work(session: AsyncSession) -> int:
        body = page_text.handoff_notice(
            notice.rotation, notice.start, notice.end, notice.timezone, notice.levels
        )
        key = f"handoff:{notice.rotation}:{notice.start.isoformat()}:{notice.person}"
        session.add(notification_rows.info(key, None, notice.person, phone, body, now))
        return 1

    return work
