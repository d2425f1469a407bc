"""What a notification says: the page text for its channel and purpose."""

from __future__ import annotations

from pager.core import page_text
from pager.core.escalation import Order
from pager.core.vocabulary import Channel
from pager.store.models import Incident


def render(incident: Incident, order: Order, alert_count: int) -> str:
    if order.purpose == "resolved":
        return page_text.resolved_notice(
            incident.id, incident.priority, incident.title, drill=incident.drill
        )
    if order.channel == Channel.VOICE:
        return page_text.voice_script(
            incident.id,
            incident.priority,
            incident.title,
            alert_count,
            incident.summary,
            drill=incident.drill,
        )
    return page_text.sms_page(
        incident.id,
        incident.priority,
        incident.title,
        alert_count,
        incident.summary,
        incident.runbook_url,
        drill=incident.drill,
    )
