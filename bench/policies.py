"""Policy directories for the benchmarks, written into a temporary directory.

`example_with_probes` is the example policy (`policies/`) unchanged, plus a
last file with `PROBES` probe people, each reached by their own rule
(`bench_probe="<n>"`, after the example's rules so ordinary alerts never
evaluate them). A probe page measures latency without the throttle in the
way: each probe person gets fewer pages than the example throttle allows.

`timers` is a policy for the escalation benchmark: `people` people, one
two-level escalation policy each, SMS only, with a throttle wide enough that
every due timer reaches the notifier instead of being folded into a bundle.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.procs import ROOT

PROBES = 60
PROBE_PHONE = "+1555020{:04d}"
RUNBOOK = "https://runbooks.example.com/bench"


def example_with_probes(where: Path) -> Path:
    directory = where / "policies"
    directory.mkdir()
    for source in sorted((ROOT / "policies").glob("*.yaml")):
        shutil.copy(source, directory / source.name)
    lines = ["people:"]
    for n in range(PROBES):
        lines += [
            f"  - id: probe{n}",
            f'    phone: "{PROBE_PHONE.format(n)}"',
            "    notify: [{channel: sms, after: 0s}]",
        ]
    lines.append("escalation_policies:")
    for n in range(PROBES):
        lines.append(f"  - {{id: probe{n}, levels: [{{targets: [person:probe{n}]}}]}}")
    lines.append("rules:")
    for n in range(PROBES):
        lines.append(
            f"  - {{matchers: ['bench_probe=\"{n}\"'], priority: P1, escalation: probe{n}, "
            f"runbook: '{RUNBOOK}'}}"
        )
    (directory / "zz-bench-probes.yaml").write_text("\n".join(lines) + "\n")
    return directory


def timers(where: Path, people: int) -> Path:
    directory = where / "timer-policy"
    directory.mkdir()
    lines = ["people:"]
    for n in range(people):
        lines += [
            f"  - id: p{n}",
            f'    phone: "+1555030{n:04d}"',
            "    notify: [{channel: sms, after: 0s}]",
        ]
    lines.append("escalation_policies:")
    for n in range(people):
        lines.append(
            f"  - {{id: e{n}, levels: [{{targets: [person:p{n}], ack_timeout: 5m}}, "
            f"{{targets: [person:p{n}]}}]}}"
        )
    lines += [
        "priorities:",
        "  P1: {channels: [sms], hours: always}",
        "throttle:",
        "  sms: {per_15m: 100, per_1h: 200}",
        "  voice: {per_15m: 3, per_1h: 7}",
        "rules:",
        f"  - {{matchers: ['severity=\"critical\"'], priority: P1, escalation: e0, "
        f"runbook: '{RUNBOOK}'}}",
        "default: {priority: P1, escalation: e0}",
    ]
    (directory / "policy.yaml").write_text("\n".join(lines) + "\n")
    return directory
