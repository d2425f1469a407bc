"""What a batch of webhooks is made of, for `pager.store.alert_fold` and its callers.

A `Part` is one webhook's alerts and how to record them; `Read` is what the
batch read from the database; `Working` is an incident as the fold sees it;
`Outcome` is what one webhook did; `Classified` caches classification per
distinct label set within a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pager.core.alert import AlertIn
from pager.core.classify import Classification
from pager.core.grouping import incident_key
from pager.core.vocabulary import IncidentState
from pager.store.models import MaintenanceWindow

Pair = tuple[str, str]  # (group key, fingerprint): which open incident holds it firing
Row = dict[str, Any]
T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class IngestContext:
    classify: Callable[[dict[str, str]], Classification]
    policy_version_id: int
    suppressed: Callable[[dict[str, str]], MaintenanceWindow | None] = lambda _labels: None
    drill: bool = False


@dataclass(frozen=True)
class Part:
    """One webhook's alerts (heartbeat pings already taken out) and how to record them."""

    alerts: Sequence[AlertIn]
    ctx: IngestContext


@dataclass(frozen=True)
class ReadIncident:
    id: int
    open_key: str | None
    group_key: str
    state: str


@dataclass
class Read:
    """What a batch read: open incidents by key, holders of resolved pairs, their alerts."""

    incidents: dict[int, ReadIncident] = field(default_factory=dict)
    alerts: dict[int, dict[str, Row]] = field(default_factory=dict)  # by incident, fingerprint
    pairs: set[Pair] = field(default_factory=set)  # the pair lookups that were read


@dataclass(eq=False)
class Working:
    """An incident as the fold sees it: one read (`id` set) or opened by the batch."""

    id: int | None
    open_key: str | None
    group_key: str
    state: str
    order: int  # read incidents by id first, then those opened, in order
    alerts: dict[str, Row]
    values: Row | None = None  # opened by the batch: the row to insert

    def firing(self) -> bool:
        return any(a["status"] == "firing" for a in self.alerts.values())


@dataclass
class Outcome(Generic[T]):
    """What one webhook did: incidents opened, resolved and touched (in that order)."""

    opened: list[T] = field(default_factory=list)
    opened_priorities: list[str] = field(default_factory=list)
    resolved: list[T] = field(default_factory=list)
    touched: list[T] = field(default_factory=list)
    ignored: int = 0

    def map(self, name: Callable[[T], U]) -> Outcome[U]:
        return Outcome(
            [name(i) for i in self.opened],
            list(self.opened_priorities),
            [name(i) for i in self.resolved],
            [name(i) for i in self.touched],
            self.ignored,
        )


@dataclass
class Folded:
    results: list[Outcome[Working]]
    incidents: list[Working]  # every incident the batch read or opened
    events: list[tuple[Working, Row]]  # in the order they happened
    alerts: dict[tuple[int, str], tuple[Working, Row]]  # written rows, by (id(incident), fp)
    needs: set[Pair]  # pair lookups the fold wanted but were not read

    @property
    def resolved(self) -> list[Working]:
        """Incidents that were read open and are resolved now."""
        return [w for w in self.incidents if w.id is not None and w.state == IncidentState.RESOLVED]

    @property
    def opened(self) -> list[Working]:
        return [w for w in self.incidents if w.values is not None]


class Classified:
    """Classification cached per distinct label set (and classifier) within a batch,
    and each alert's incident key (the batch's read and its fold both need it)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[object, frozenset[tuple[str, str]]], Classification] = {}
        self._keys: dict[int, tuple[AlertIn, Classification, str]] = {}  # by id(alert)
        self._digests: dict[tuple[str, int | None], str] = {}  # keys without group_by

    def __call__(
        self, classify: Callable[[dict[str, str]], Classification], labels: dict[str, str]
    ) -> Classification:
        key = (classify, frozenset(labels.items()))
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = classify(labels)
        return found

    def key(
        self, classify: Callable[[dict[str, str]], Classification], alert: AlertIn
    ) -> tuple[Classification, str]:
        """The alert's classification and incident key (`pager.core.grouping`)."""
        known = self._keys.get(id(alert))
        if known is not None and known[0] is alert:
            return known[1], known[2]
        c = self(classify, alert.labels)
        if c.group_by is None:  # the key is the group's and the rule's: a webhook's alerts share it
            digest = (alert.group_key, c.rule_index)
            key = self._digests.get(digest)
            if key is None:
                key = self._digests[digest] = incident_key(alert.group_key, c.rule_index, None, {})
        else:
            key = incident_key(alert.group_key, c.rule_index, c.group_by, alert.labels)
        self._keys[id(alert)] = (alert, c, key)  # the alert held: its id stays its own
        return c, key
