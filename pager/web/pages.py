"""The console's request handlers, by the name pager.web.setup routes them under.

Imported on the first console request, not at start: the pages bring Jinja2,
bcrypt and aiohttp-sse, which a daemon that nobody has opened the console of
does not need to page anyone (pager.web.setup registers the routes without
importing this module).
"""

from __future__ import annotations

from pager.edge import Handler
from pager.web import (
    acting,
    action_items,
    calendar,
    drills,
    heartbeats,
    incident,
    incidents,
    insights,
    maintenance,
    my,
    now,
    override_forms,
    priorities,
    review,
    schedule,
    signin,
    stream,
)

HANDLERS: dict[str, Handler] = {
    "now": now.now_page,
    "incidents": incidents.incidents_page,
    "bulk": acting.bulk,
    "incident": incident.incident_page,
    **{f"incident_{verb}": acting.on_incident(verb) for verb in acting.VERBS},
    "status_update": acting.status_update,
    "review": review.review_page,
    "review_save": review.save,
    "review_held": review.held,
    "review_add_item": review.add_item,
    "reviews": review.reviews_page,
    "actions": action_items.actions_page,
    "action_close": action_items.close,
    "action_reassign": action_items.reassign,
    "schedules": schedule.schedules,
    "schedule": schedule.schedule_page,
    "override_add": override_forms.add,
    "override_remove": override_forms.remove,
    "my": my.my_page,
    "calendar_new_link": calendar.new_link,
    "calendar_person": calendar.person_feed,
    "calendar_rotation": calendar.rotation_feed,
    "maintenance": maintenance.maintenance_page,
    "maintenance_create": maintenance.create,
    "maintenance_end": maintenance.end,
    "heartbeats": heartbeats.heartbeats_page,
    "drills": drills.drills_page,
    "drill_start": drills.start,
    "priorities": priorities.priorities_page,
    "health": insights.health_page,
    "sign_in_form": signin.sign_in_form,
    "sign_in": signin.sign_in,
    "sign_out": signin.sign_out,
    "events": stream.events,
}
