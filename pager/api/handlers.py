"""The admin API's request handlers, by the name pager.app routes them under.

Imported on the first API request, not at start (pager.app registers the
routes by name): a daemon pages without them. /healthz, /readyz, /metrics and
the reload (pager.api.health) are imported at start: they are how it is
watched from the first second.
"""

from __future__ import annotations

from pager.api import (
    action_items,
    drills,
    explain,
    incidents,
    maintenance,
    oncall,
    priorities,
    report,
    reviews,
    updates,
)
from pager.edge import Handler

HANDLERS: dict[str, Handler] = {
    "list_incidents": incidents.list_incidents,
    "get_incident": incidents.get_incident,
    "acknowledge": incidents.acknowledge,
    "resolve": incidents.resolve,
    "escalate": incidents.escalate,
    "post_status_update": updates.post_status_update,
    "review": reviews.review,
    "mark_reviewed": reviews.mark_reviewed,
    "actions_of_incident": action_items.list_for_incident,
    "create_action": action_items.create,
    "list_actions": action_items.list_all,
    "update_action": action_items.update,
    "priorities": priorities.priorities,
    "explain": explain.explain,
    "list_drills": drills.list_drills,
    "create_drill": drills.create_drill,
    "list_maintenance": maintenance.list_maintenance,
    "create_maintenance": maintenance.create_maintenance,
    "end_maintenance": maintenance.end_maintenance,
    "report": report.get_report,
    "oncall": oncall.oncall,
    "list_overrides": oncall.list_overrides,
    "create_override": oncall.create_override,
    "delete_override": oncall.delete_override,
}
