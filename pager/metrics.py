"""pager's own metrics. Names are part of the contract (README, "Metrics").

Each app gets its own registry, and every label set that is known up front is
created at zero, so dashboards and alert rules see series before the first
event. Drill incidents are kept out of the real MTTA/MTTR histograms.

The registry also holds the process, platform and GC collectors (what
prometheus_client's default registry would have shown: pager never uses that
one) and `pager_build_info{version}`. No `_created` series: they double the
series count and Prometheus ignores them in the text format anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

from pager.core.vocabulary import Channel, IncidentState, NotificationState

SOURCES = ("alertmanager", "generic", "heartbeat", "drill")
STATUSES = ("firing", "resolved")
REJECT_REASONS = (
    "malformed",
    "unauthorized",
    "too_large",
    "unavailable",
    "bad_signature",
    "client_timeout",  # the body did not arrive within PAGER_CLIENT_TIMEOUT
    "client_disconnected",  # the client went away before its body was read
    "deadline",  # not answered within the request deadline
)
CHANNELS = tuple(Channel)
# pager_notifications_total{state}: where a send ended up (pending and sending pass).
NOTIFY_OUTCOMES = (
    NotificationState.SENT,
    NotificationState.DELIVERED,
    NotificationState.FAILED_TEMP,
    NotificationState.FAILED_PERM,
    NotificationState.UNKNOWN,
    NotificationState.THROTTLED,
    NotificationState.CANCELLED,
)
STATES = (IncidentState.TRIGGERED, IncidentState.ACKNOWLEDGED)  # open incidents, by state
ENGINE_STEPS = ("heartbeats", "escalate", "send", "reconcile", "unknown")
LOOKUP_RESULTS = ("found", "not_found", "unavailable")

# Seconds to hours for people; milliseconds to seconds for the machine.
HUMAN_BUCKETS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)
MACHINE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# A page's lateness includes its retries: up to a level's ack timeout.
LATENESS_BUCKETS = (*MACHINE_BUCKETS, 120, 300, 600, 1800)


class Metrics:
    def __init__(self, priorities: tuple[str, ...] = ("P1", "P2")) -> None:
        # prometheus_client has no per-registry switch: this one is process-wide
        # (and the same for every Metrics, so calling it again changes nothing).
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = r = CollectorRegistry()
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        Gauge("pager_build_info", "Always 1: the running version", ["version"], registry=r).labels(
            version()
        ).set(1)
        self.alerts_received = Counter(
            "pager_alerts_received", "Alerts received by webhook", ["source", "status"], registry=r
        )
        self.webhook_rejected = Counter(
            "pager_webhook_rejected", "Requests rejected, by reason", ["reason"], registry=r
        )
        self.incidents_opened = Counter(
            "pager_incidents_opened", "Incidents opened", ["priority"], registry=r
        )
        self.incidents_open = Gauge(
            "pager_incidents_open", "Open incidents", ["priority", "state"], registry=r
        )
        self.notifications = Counter(
            "pager_notifications", "Notification outcomes", ["channel", "outcome"], registry=r
        )
        self.escalations = Counter(
            "pager_escalations", "Escalation steps taken", ["priority"], registry=r
        )
        self.exhausted = Counter(
            "pager_escalations_exhausted",
            "Incidents that ran out of levels",
            ["priority"],
            registry=r,
        )
        self.time_to_ack = Histogram(
            "pager_time_to_ack_seconds",
            "Incident opened to acknowledged",
            ["priority"],
            buckets=HUMAN_BUCKETS,
            registry=r,
        )
        self.time_to_resolve = Histogram(
            "pager_time_to_resolve_seconds",
            "Incident opened to resolved",
            ["priority"],
            buckets=HUMAN_BUCKETS,
            registry=r,
        )
        self.page_latency = Histogram(
            "pager_page_latency_seconds",
            "Alert received to the incident's first page handed to the provider",
            buckets=MACHINE_BUCKETS,
            registry=r,
        )
        self.notification_lateness = Histogram(
            "pager_notification_lateness_seconds",
            "A page's planned time (its escalation step and notify rule) to handed to the provider",
            buckets=LATENESS_BUCKETS,
            registry=r,
        )
        self.pages_after_ack = Counter(
            "pager_pages_after_ack",
            "Pages the provider accepted after their incident was acknowledged or resolved",
            registry=r,
        )
        self.unknown_resolved = Counter(
            "pager_unknown_sends_resolved",
            "Sends of unknown fate, by what asking the provider found",
            ["result"],
            registry=r,
        )
        self.incident_step_errors = Counter(
            "pager_incident_step_errors",
            "Escalation steps of one incident that failed (retried with backoff)",
            registry=r,
        )
        self.engine_step_errors = Counter(
            "pager_engine_step_errors",
            "Engine steps that failed in a tick, by step (the other steps still ran)",
            ["step"],
            registry=r,
        )
        self.engine_step_duration = Histogram(
            "pager_engine_step_duration_seconds",
            "Time one engine step took in a tick, by step (sends it started not included)",
            ["step"],
            buckets=MACHINE_BUCKETS,
            registry=r,
        )
        self.escalation_lateness = Histogram(
            "pager_escalation_lateness_seconds",
            "Escalation step due to done",
            buckets=MACHINE_BUCKETS,
            registry=r,
        )
        self.ingest_batch = Histogram(
            "pager_ingest_batch_webhooks",
            "Webhooks recorded per write transaction (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=r,
        )
        self.alertmanager_truncated = Counter(
            "pager_alertmanager_truncated_alerts",
            "Alerts Alertmanager left out of webhooks (truncatedAlerts: its max_alerts)",
            registry=r,
        )
        self.engine_last_tick = Gauge(
            "pager_engine_last_tick_timestamp_seconds",
            "When the engine last finished a tick",
            registry=r,
        )
        self.policy_reload_ok = Gauge(
            "pager_policy_last_reload_successful", "1 if the last policy load worked", registry=r
        )
        self.heartbeat_last_seen = Gauge(
            "pager_heartbeat_last_seen_timestamp_seconds",
            "Last ping of each heartbeat",
            ["name"],
            registry=r,
        )
        self.sms_ignored = Counter(
            "pager_inbound_ignored",
            "Inbound messages from unknown numbers",
            ["channel"],
            registry=r,
        )
        self.inbound_refused = Counter(
            "pager_inbound_refused",
            "Replies and keypresses refused: from someone not paged for the incident",
            ["channel"],
            registry=r,
        )
        self.inbound_replayed = Counter(
            "pager_inbound_replayed",
            "Twilio requests seen before (same MessageSid, or CallSid and digits), not acted on",
            ["channel"],
            registry=r,
        )
        self.callbacks_mismatched = Counter(
            "pager_status_callbacks_mismatched",
            "Status callbacks ignored: their MessageSid/CallSid is not the notification's",
            ["channel"],
            registry=r,
        )
        self.action_items_open = Gauge(
            "pager_action_items_open",
            "Open action items from reviews, by whether they are past due",
            ["overdue"],
            registry=r,
        )
        self._heartbeats: set[str] = set()
        self.precreate(priorities)

    def precreate(self, priorities: tuple[str, ...]) -> None:
        for source in SOURCES:
            for status in STATUSES:
                self.alerts_received.labels(source, status)
        for reason in REJECT_REASONS:
            self.webhook_rejected.labels(reason)
        for channel in CHANNELS:
            for outcome in NOTIFY_OUTCOMES:
                self.notifications.labels(channel, outcome)
            self.sms_ignored.labels(channel)
            self.inbound_refused.labels(channel)
            self.inbound_replayed.labels(channel)
            self.callbacks_mismatched.labels(channel)
        self.declare_steps(ENGINE_STEPS)
        for result in LOOKUP_RESULTS:
            self.unknown_resolved.labels(result)
        for overdue in ("false", "true"):
            self.action_items_open.labels(overdue)
        for priority in priorities:
            self.incidents_opened.labels(priority)
            self.escalations.labels(priority)
            self.exhausted.labels(priority)
            self.time_to_ack.labels(priority)
            self.time_to_resolve.labels(priority)
            for state in STATES:
                self.incidents_open.labels(priority, state)

    def declare_steps(self, names: Iterable[str]) -> None:
        """The engine's steps' series, at zero."""
        for step in names:
            self.engine_step_errors.labels(step)
            self.engine_step_duration.labels(step)

    def declare_heartbeats(self, names: Iterable[str]) -> None:
        """One series per declared heartbeat (0 until its first ping); undeclared ones go."""
        wanted = set(names)
        for gone in self._heartbeats - wanted:
            self.heartbeat_last_seen.remove(gone)
        for name in wanted - self._heartbeats:
            self.heartbeat_last_seen.labels(name)
        self._heartbeats = wanted

    def set_open(self, counts: list[tuple[str, str, int]]) -> None:
        seen = {(p, s): n for p, s, n in counts}
        for (priority, state), _ in list(self._open_series()):
            self.incidents_open.labels(priority, state).set(seen.pop((priority, state), 0))
        for (priority, state), n in seen.items():
            self.incidents_open.labels(priority, state).set(n)

    def _open_series(self) -> list[tuple[tuple[str, str], float]]:
        return [
            ((s.labels["priority"], s.labels["state"]), s.value)
            for m in self.incidents_open.collect()
            for s in m.samples
        ]

    def render(self) -> bytes:
        return generate_latest(self.registry)


def version() -> str:
    try:
        return metadata.version("pager")
    except metadata.PackageNotFoundError:  # run from a source tree never installed
        return "unknown"
