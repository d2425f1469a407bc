"""Policies for the observability tests: BASE plus heartbeats."""

from tests.scenario.policies import BASE

WATCHDOG_RULE = """rules:
  - matchers: ['alertname="Watchdog"']
    heartbeat: {expect_every: 5m, priority: P1, escalation: platform}
"""

HEARTBEATS = (
    BASE.replace("rules:\n", WATCHDOG_RULE, 1)
    + """
heartbeats:
  - {name: backup, expect_every: 1h, priority: P2, escalation: platform}
"""
)
