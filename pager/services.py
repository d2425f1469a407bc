"""What the handlers share: one `Pager` per app, under a typed AppKey."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from pager.clock import Clock
from pager.engine.engine import Engine
from pager.metrics import Metrics
from pager.notify.base import Notifier
from pager.policy.runtime import PolicyRuntime
from pager.settings import Settings
from pager.store.db import Database


@dataclass
class Pager:
    settings: Settings
    clock: Clock
    db: Database
    policies: PolicyRuntime
    metrics: Metrics
    notifier: Notifier
    engine: Engine


PAGER = web.AppKey("pager", Pager)


def pager_of(request: web.Request) -> Pager:
    return request.app[PAGER]
