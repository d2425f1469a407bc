"""The policy the fault suite pages with: every incident requires exactly one page.

Alert `ChaosNNNN` with label `route=RR` pages person `pRR` by one SMS and
nothing else: one level with a long ack timeout, no repeat, no voice, no
stakeholders, no resolve notices, a throttle nobody reaches. So the pages the
policy required are simply one SMS per alert fired, which the checker counts
at the fake Twilio. P2 by default, the priority whose unknown sends used to be
dropped; `P1` rules for alerts with `severity=critical`.
"""

from __future__ import annotations

PEOPLE = 8


def phone(person: int) -> str:
    return f"+1555020{person:04d}"


def chaos_policy(people: int = PEOPLE) -> str:
    lines = ["people:"]
    lines += [
        f'  - {{id: p{i:02d}, phone: "{phone(i)}", notify: [{{channel: sms}}]}}'
        for i in range(people)
    ]
    lines.append("escalation_policies:")
    lines += [
        f"  - {{id: e{i:02d}, levels: [{{targets: [person:p{i:02d}], ack_timeout: 2h}}]}}"
        for i in range(people)
    ]
    lines += [
        "priorities:",
        "  P1: {channels: [sms]}",
        "  P2: {channels: [sms]}",
        "throttle: {sms: {per_15m: 100000, per_1h: 100000}, voice: {per_15m: 1, per_1h: 1}}",
        "rules:",
    ]
    for i in range(people):
        lines.append(
            f"  - {{matchers: ['route=\"{i:02d}\"', 'severity=\"critical\"'], priority: P1, "
            f"escalation: e{i:02d}, runbook: https://runbooks.example.com/chaos}}"
        )
        lines.append(f"  - {{matchers: ['route=\"{i:02d}\"'], priority: P2, escalation: e{i:02d}}}")
    lines.append("default: {priority: P2, escalation: e00}")
    return "\n".join(lines) + "\n"
