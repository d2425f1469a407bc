"""Policies the scenarios run on, written out as a user would."""

BASE = """
people:
  - {id: alice, phone: "+15550100001", notify: [{channel: sms, after: 0s}, {channel: voice, after: 1m}]}
  - {id: bob, phone: "+15550100002", notify: [{channel: sms}]}
  - {id: carol, phone: "+15550100003", notify: [{channel: sms}]}
  - {id: erin, phone: "+15550100005", notify: [{channel: sms}]}
  - {id: frank, phone: "+15550100006", notify: [{channel: sms}]}
rotations:
  - {id: primary, timezone: UTC, shift: 1w, handoff: "2026-01-05T00:00", members: [alice, carol]}
  - {id: secondary, timezone: UTC, shift: 1w, handoff: "2026-01-05T00:00", members: [bob]}
  - {id: nobody, timezone: UTC, shift: 1w, handoff: "2026-01-05T00:00", members: []}
escalation_policies:
  - id: platform
    repeat: 1
    levels:
      - {targets: [rotation:primary], ack_timeout: 5m}
      - {targets: [rotation:secondary], ack_timeout: 10m}
      - {targets: [person:erin], ack_timeout: 15m}
  - id: gappy
    levels:
      - {targets: [rotation:nobody], ack_timeout: 5m}
      - {targets: [rotation:secondary], ack_timeout: 5m}
priorities:
  P1: {channels: [sms, voice], ack_expires: 1h, notify_on_resolve: true}
  P2: {channels: [sms], upgrade_to: P1, upgrade_after: 2h,
       hours: {days: mon-fri, from: "09:00", to: "18:00", timezone: UTC}}
rules:
  - matchers: ['severity="critical"']
    priority: P1
    escalation: platform
    runbook: https://runbooks.example.com/critical
  - matchers: ['team="gappy"']
    priority: P1
    escalation: gappy
    runbook: https://runbooks.example.com/gappy
default: {priority: P2, escalation: platform}
"""
