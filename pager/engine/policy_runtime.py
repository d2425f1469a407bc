"""The running policy: loaded once, reloaded on request, never replaced by a broken one.

Every successful load is stored as a policy version; incidents keep the
version they started with, and `snapshot()` gives it back (cached). Reading,
checking and compiling a policy (seconds for a policy of megabytes) runs in
a worker thread, so webhooks and the engine keep going during a reload.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from pager.clock import Clock
from pager.core.classify import Classifier
from pager.policy.loader import LoadedPolicy, PolicyError, PolicyIssue, load_policy
from pager.policy.model import Policy
from pager.store.db import Database
from pager.store.policies import load_version, record_load, save_version, version_at

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A policy directory read, checked, compiled and serialised: the blocking part of a load."""

    loaded: LoadedPolicy
    classifier: Classifier
    body: dict[str, Any]


def prepare(directory: Path) -> Prepared:
    """Raises PolicyError when the directory holds an invalid policy."""
    loaded = load_policy(directory)
    return Prepared(loaded, Classifier(loaded.policy), _body(loaded.policy))


@dataclass(frozen=True)
class Active:
    policy: Policy
    classifier: Classifier
    version_id: int
    warnings: tuple[PolicyIssue, ...]


class PolicyRuntime:
    def __init__(self, directory: Path, db: Database, clock: Clock) -> None:
        self.directory, self.db, self.clock = directory, db, clock
        self._active: Active | None = None
        self._snapshots: dict[int, Policy] = {}
        self.last_reload_ok = False
        self.last_errors: tuple[PolicyIssue, ...] = ()

    @property
    def active(self) -> Active:
        if self._active is None:
            raise RuntimeError("no policy loaded")
        return self._active

    @property
    def loaded(self) -> bool:
        return self._active is not None

    async def reload(self, prepared: Prepared | None = None) -> tuple[PolicyIssue, ...]:
        """Load the directory; on errors keep the running policy and return them.
        `prepared`: the directory as the start-up checks read it a moment ago
        (pager.startup), so a start parses the policy once, not twice."""
        try:
            if prepared is None:
                prepared = await asyncio.to_thread(prepare, self.directory)
        except PolicyError as exc:
            self.last_reload_ok, self.last_errors = False, tuple(exc.errors)
            for issue in exc.errors:
                log.error("policy error: %s", issue)
            return self.last_errors
        loaded = prepared.loaded
        version_id = await self._store(prepared.body)
        async with self.db.write() as session:
            await record_load(session, version_id, self.clock.now())
        warnings = tuple(loaded.warnings)
        self._active = Active(loaded.policy, prepared.classifier, version_id, warnings)
        self._snapshots[version_id] = loaded.policy
        self.last_reload_ok, self.last_errors = True, ()
        for issue in loaded.warnings:
            log.warning("policy warning: %s", issue)
        log.info("policy loaded", extra={"policy_version": version_id})
        return ()

    async def store_version(self, policy: Policy) -> int:
        """Store a policy version (once per content) and return its id."""
        return await self._store(_body(policy))

    async def _store(self, body: dict[str, Any]) -> int:
        for _ in range(2):  # two replicas may store the same version at once
            try:
                async with self.db.write() as session:
                    return await save_version(session, body, self.clock.now())
            except IntegrityError:
                continue
        raise RuntimeError("could not store the policy version")

    async def running_at(self, at: datetime) -> tuple[int, Policy]:
        """The policy that was running at `at` (the active one if none was before)."""
        async with self.db.read() as session:
            version_id = await version_at(session, at)
        if version_id is None or at >= self.clock.now():
            return self.active.version_id, self.active.policy
        return version_id, await self.snapshot(version_id)

    async def snapshot(self, version_id: int) -> Policy:
        cached = self._snapshots.get(version_id)
        if cached is None:
            async with self.db.read() as session:
                cached = Policy.model_validate(await load_version(session, version_id))
            self._snapshots[version_id] = cached
        return cached


def _body(policy: Policy) -> dict[str, Any]:
    return policy.model_dump(mode="json", by_alias=True)
