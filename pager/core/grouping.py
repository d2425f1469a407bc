"""Which incident an alert belongs to, and how that incident is named.

An incident is one Alertmanager group (`groupKey`) per matching rule, unless
the rule names its own `group_by` labels. Alerts are told apart by fingerprint,
never by summary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

_TITLE_LABELS = ("service", "job", "instance")


def incident_key(
    group_key: str,
    rule_index: int | None,
    group_by: Sequence[str] | None,
    labels: Mapping[str, str],
) -> str:
    """A short stable key: unique among open incidents (see Incident.open_key)."""
    rule = "default" if rule_index is None else str(rule_index)
    if group_by is not None:
        group_key = "{" + ",".join(f"{n}={labels.get(n, '')!r}" for n in sorted(group_by)) + "}"
    digest = hashlib.sha256(f"{rule}\x00{group_key}".encode()).hexdigest()
    return digest[:40]


def incident_title(labels: Mapping[str, str]) -> str:
    """`HighErrorRate checkout`: the alert name and the first telling label."""
    name = labels.get("alertname", "alert")
    for key in _TITLE_LABELS:
        if labels.get(key):
            return f"{name} {labels[key]}"
    return name


def runbook_for(annotations: Mapping[str, str], rule_runbook: str | None) -> str | None:
    return annotations.get("runbook_url") or rule_runbook or None
