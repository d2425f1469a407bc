"""What the handlers share: one `Pager` per app, under a typed AppKey."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from pager.clock import Clock
from pager.engine.alert_writer import Writer
from pager.engine.engine import Engine
from pager.engine.policy_runtime import PolicyRuntime
from pager.metrics import Metrics
from pager.notify.base import Notifier
from pager.settings import Settings
from pager.store.db import Database
from pager.store.maintenance import MaintenanceCache


@dataclass
class Pager:
    settings: Settings
    clock: Clock
    db: Database
    policies: PolicyRuntime
    metrics: Metrics
    notifier: Notifier
    engine: Engine
    maintenance: MaintenanceCache = field(default_factory=MaintenanceCache)
    writer: Writer = field(init=False)  # group commit of webhooks (pager.engine.alert_writer)

    def __post_init__(self) -> None:
        self.writer = Writer(
            self.db, self.clock, self.policies, self.maintenance, self.metrics.ingest_batch
        )


PAGER = web.AppKey("pager", Pager)


def pager_of(request: web.Request) -> Pager:
    return request.app[PAGER]
