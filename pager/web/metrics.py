"""The console's metrics, in the app's registry, every label set at zero from the start."""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Gauge


class SignIn(StrEnum):
    OK = "ok"
    WRONG_PASSWORD = "wrong_password"
    UNKNOWN_USER = "unknown_user"
    NOT_IN_POLICY = "not_in_policy"
    RATE_LIMITED = "rate_limited"


class WebMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sign_ins = Counter(
            "pager_web_sign_ins",
            "Console sign-in attempts, by outcome",
            ["outcome"],
            registry=registry,
        )
        self.proxy_untrusted = Counter(
            "pager_web_proxy_header_untrusted",
            "Requests carrying the auth proxy header from an address not trusted to set it",
            registry=registry,
        )
        self.csrf_refused = Counter(
            "pager_web_csrf_refused",
            "Console posts refused for a missing or wrong CSRF token",
            registry=registry,
        )
        self.live_streams = Gauge(
            "pager_web_live_streams", "Open live-update streams (SSE)", registry=registry
        )
        for outcome in SignIn:
            self.sign_ins.labels(outcome)
