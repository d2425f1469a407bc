"""What the tests of the console's part 2 share: a policy with a daily London
rotation (its shifts cross the March and October clock changes) beside part
1's weekly ones, and a clock that starts in the week of the March change."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.web.console import POLICY

# Sunday 29 March 2026: London's clocks go from 01:00 GMT to 02:00 BST.
SPRING_FORWARD_WEEK = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)  # a Wednesday

DAILY = """
  - {id: daily, timezone: Europe/London, shift: 1d, handoff: "2026-01-05T09:00",
     members: [alice, bob, carol], handoff_notice: 1h}
"""
PART2_POLICY = POLICY.replace(
    "members: [bob]}\n", "members: [bob]}\n" + DAILY.lstrip("\n"), 1
).replace(
    "      - {targets: [rotation:secondary], ack_timeout: 10m}\n",
    "      - {targets: [rotation:secondary], ack_timeout: 10m}\n"
    "      - {targets: [rotation:daily]}\n",
    1,
)
PART2_POLICY += """heartbeats:
  - {name: nightly-backup, expect_every: 1d, priority: P2, escalation: platform,
     wait_for_first_ping: true}
"""
assert "rotation:daily" in PART2_POLICY
assert "id: daily" in PART2_POLICY
