"""The words of a page: the SMS text, the throttled bundle and the voice script.

Guarantees (pure functions, no I/O):
- Every SMS text returned here is GSM-7 (`is_gsm7`), so a carrier never falls
  back to UCS-2, which would cut a segment from 160 to 70 characters. Characters
  outside GSM-7 are transliterated (the contract's em dash "—" becomes "-").
- `sms_page` keeps to one segment (160 septets): it shortens the summary first,
  then the title, never the reply instructions. The runbook URL is appended
  only when the whole page still fits in one segment with it.
- `sms_bundle` and `voice_bundle` name their incidents by title, highest
  priority first (`bundle_order`); `sms_bundle` keeps to one segment by listing
  as many titles as fit, then "and N more".
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

SEGMENT = 160  # septets in one GSM-7 SMS segment
ELLIPSIS = "..."

# GSM 03.38 basic character set (without ESC) and its extension table, whose
# characters are sent as ESC + char and so cost two septets.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

# Common non-GSM-7 characters and what a reader would expect instead.
_REPLACEMENTS = {
    "—": "-",  # em dash
    "–": "-",  # en dash
    "‐": "-",
    "‑": "-",
    "−": "-",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "`": "'",
    "´": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "…": "...",
    "•": "-",
    "·": ".",
    "\t": " ",
    "\u00a0": " ",  # no-break space
    "\u2009": " ",  # thin space
    "\u200b": "",  # zero-width space
    "×": "x",
    "→": "->",
    "≥": ">=",
    "≤": "<=",
}
_SPACES = re.compile(r"[ ]{2,}")


def is_gsm7(text: str) -> bool:
    """True when `text` can be sent in the GSM-7 alphabet."""
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text)


def gsm7_length(text: str) -> int:
    """Septets `text` takes in GSM-7 (extension characters count two)."""
    return sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)


def to_gsm7(text: str) -> str:
    """`text` transliterated into GSM-7; what has no sensible spelling becomes '?'."""
    return "".join(_gsm7_char(ch) for ch in text)


def _gsm7_char(ch: str) -> str:
    if ch in _GSM7_BASIC or ch in _GSM7_EXTENDED:
        return ch
    if ch in _REPLACEMENTS:
        return _REPLACEMENTS[ch]
    # Accented letters lose their accent ("ł" has no decomposition: '?').
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and all(c in _GSM7_BASIC for c in base):
        return base
    return " " if ch.isspace() else "?"


def clean(text: str) -> str:
    """One line of GSM-7 text: newlines folded, runs of spaces squeezed."""
    flat = " ".join(to_gsm7(text).split())
    return _SPACES.sub(" ", flat)


def shorten(text: str, septets: int) -> str:
    """`text` cut to at most `septets`, marked with '...' when cut."""
    if gsm7_length(text) <= septets:
        return text
    if septets < len(ELLIPSIS):
        return ""
    out, used = [], len(ELLIPSIS)
    for ch in text:
        used += gsm7_length(ch)
        if used > septets:
            break
        out.append(ch)
    return "".join(out).rstrip(" .,;:-") + ELLIPSIS


def reply_instructions(incident_number: int) -> str:
    n = incident_number
    return f"Reply {n}A ack, {n}R resolve, {n}E escalate"


def sms_page(
    incident_number: int,
    priority: str,
    title: str,
    alert_count: int,
    summary: str,
    runbook_url: str | None = None,
    drill: bool = False,
) -> str:
    """The page SMS: `[P1] #42 Title (3 alerts) - summary. Reply 42A ack, ...`."""
    prefix = f"{'[DRILL] ' if drill else ''}[{clean(priority)}] #{incident_number} "
    counted = f" ({alert_count} alerts)" if alert_count > 1 else ""
    tail = reply_instructions(incident_number)
    title, summary = clean(title), clean(summary).rstrip(" .")
    room = SEGMENT - gsm7_length(prefix + counted + ". " + tail)
    title = shorten(title, max(room - (3 if summary else 0), 0))
    room -= gsm7_length(title)
    summary = shorten(summary, room - 3) if summary and room > 3 + len(ELLIPSIS) else ""
    text = prefix + title + counted + (f" - {summary}" if summary else "")
    # "cut off..." reads better than "cut off.... Reply".
    text += (" " if text.endswith(ELLIPSIS) else ". ") + tail
    return _with_runbook(text, runbook_url)


def _with_runbook(text: str, runbook_url: str | None) -> str:
    url = (runbook_url or "").strip()
    if not url or not is_gsm7(url) or any(ch.isspace() for ch in url):
        return text
    with_url = f"{text}\n{url}"
    return with_url if gsm7_length(with_url) <= SEGMENT else text


@dataclass(frozen=True, slots=True)
class Bundled:
    """One incident named in a bundle."""

    number: int
    priority: str
    title: str


def bundle_order(incidents: Iterable[Bundled]) -> list[Bundled]:
    """Highest priority first (P2 before P10); within a priority the rarest alert
    name (a title's first word) first, then the newest: in a storm the common
    name and the oldest incidents are the storm, and a P1 that opened mid-storm
    must not be the "and 40 more"."""
    listed = list(incidents)
    names = Counter(_alert_name(b.title) for b in listed)
    return sorted(
        listed,
        key=lambda b: (priority_rank(b.priority), names[_alert_name(b.title)], -b.number),
    )


def _alert_name(title: str) -> str:
    return title.split(maxsplit=1)[0] if title.split() else ""


def priority_rank(priority: str) -> tuple[int, str]:
    digits = priority[1:]
    return (int(digits) if digits.isdigit() else 10**16, priority)


def sms_bundle(incidents: Sequence[Bundled], drill: bool = False) -> str:
    """The throttle's bundle, in `bundle_order`:
    `[P1] 3 more incidents: #43 Baz, #42 Bar and 1 more. Reply A to ack all`.

    As many titles as fit in one segment, then "and N more"; the reply
    instructions are never cut.
    """
    listed = bundle_order(incidents)
    count = len(listed)
    noun = "incident" if count == 1 else "incidents"
    head = f"{'[DRILL] ' if drill else ''}[{clean(listed[0].priority)}] {count} more {noun}: "
    tail = ". Reply A to ack all"
    room = SEGMENT - gsm7_length(head + tail)
    return head + _bundle_list(listed, room) + tail


def sms_digest(bodies: Sequence[str]) -> str:
    """Info messages the throttle held back, in one SMS: `5 updates: [P1] #41 RESOLVED ...; ...`.

    Two segments at most: a digest is for reading later, not for waking anyone.
    """
    head = f"{len(bodies)} {'update' if len(bodies) == 1 else 'updates'}: "
    text = head + "; ".join(clean(b).removesuffix(" FYI only, no action needed.") for b in bodies)
    return shorten(text, 2 * SEGMENT - 7)


def _bundle_list(incidents: Sequence[Bundled], room: int) -> str:
    # Each title shown takes at least 4 septets ("#7" and ", "): no more than
    # room // 4 + 1 can fit, and only those are tried, from the most down. A
    # storm's bundle names tens of thousands: trying each count was quadratic.
    most = min(len(incidents), room // 4 + 1)
    titled = [f"#{b.number} {shorten(clean(b.title), 30)}".rstrip() for b in incidents[:most]]
    for shown in range(most, 0, -1):
        rest = len(incidents) - shown
        listed = ", ".join(titled[:shown]) + (f" and {rest} more" if rest else "")
        if gsm7_length(listed) <= room:
            return listed
    more = f" and {len(incidents) - 1} more" if len(incidents) > 1 else ""
    return shorten(titled[0], max(room - gsm7_length(more), 0)) + more


VOICE_MENU = "Press 1 to acknowledge, 2 to escalate, 3 to resolve."
_VOICE_SUMMARY_CHARS = 300  # a call that reads a novel is a call people hang up on


def voice_script(
    incident_number: int,
    priority: str,
    title: str,
    alert_count: int,
    summary: str,
    drill: bool = False,
) -> str:
    """What a page call says, ending with `VOICE_MENU`."""
    spoken_priority = f"priority {priority[1:]}" if priority[1:].isdigit() else priority
    parts = ["This is a drill." if drill else "", f"This is pager, {spoken_priority}."]
    parts.append(f"Incident {incident_number}: {_spoken(title)}.")
    if alert_count > 1:
        parts.append(f"{alert_count} alerts.")
    said = _spoken(summary)
    if said:
        parts.append(shorten(said, _VOICE_SUMMARY_CHARS).rstrip(".") + ".")
    parts.append(VOICE_MENU)
    return " ".join(p for p in parts if p)


_SPOKEN_TITLES = 5  # a call that reads twenty titles is a call people hang up on


def voice_bundle(incidents: Sequence[Bundled], drill: bool = False) -> str:
    """What a bundle call says, in `bundle_order`: the first few by title, then the
    menu (never "Reply A", which a call cannot do)."""
    listed = bundle_order(incidents)
    priority, count = listed[0].priority, len(listed)
    spoken_priority = f"priority {priority[1:]}" if priority[1:].isdigit() else priority
    named = [f"incident {b.number}, {_spoken(b.title)}" for b in listed[:_SPOKEN_TITLES]]
    rest = f"; and {count - len(named)} more" if count > len(named) else ""
    noun = "incident" if count == 1 else "incidents"
    parts = [
        "This is a drill." if drill else "",
        f"This is pager, {spoken_priority}.",
        f"{count} more {noun}: {'; '.join(named)}{rest}.",
        f"For {'it' if count == 1 else 'all of them'}: {VOICE_MENU}",
    ]
    return " ".join(p for p in parts if p)


def _spoken(text: str) -> str:
    return " ".join(text.split()).strip(" .")


def handoff_notice(
    rotation: str,
    start: datetime,
    end: datetime,
    zone: str,
    levels: Sequence[tuple[str, int]],
) -> str:
    """`You are on call for platform-primary from Mon 5 Jan 09:00 Europe/London until
    Mon 12 Jan 09:00; escalation: platform L1`: one GSM-7 segment (the escalation
    list, then the rotation's name, are shortened to fit; never the times)."""
    tz = ZoneInfo(zone)
    since, until = start.astimezone(tz), end.astimezone(tz)

    def day(moment: datetime) -> str:
        return f"{moment:%a} {moment.day} {moment:%b %H:%M}"

    times = f" from {day(since)} {clean(zone)} until {day(until)}"
    escalation = ", ".join(f"{clean(e)} L{n}" for e, n in levels) or "none"
    head = "You are on call for "
    room = SEGMENT - gsm7_length(head + times + "; escalation: ")
    name = shorten(clean(rotation), max(room - min(gsm7_length(escalation), 24), 12))
    room -= gsm7_length(name)
    return f"{head}{name}{times}; escalation: {shorten(escalation, max(room, 3))}"


# Notices and reminders: SMS that tell, never page (kind info).


def resolved_notice(incident_number: int, priority: str, title: str, drill: bool = False) -> str:
    """`[P1] #42 RESOLVED Disk full`: to those a page reached (notify_on_resolve)."""
    prefix = "[DRILL] " if drill else ""
    return to_gsm7(f"{prefix}[{priority}] #{incident_number} RESOLVED {title}")


def stakeholder_notice(
    incident_number: int, priority: str, what: str, title: str, drill: bool = False
) -> str:
    """`[P1] #42 ACKNOWLEDGED: Disk full. FYI only, no action needed.` (`what`: opened,
    acknowledged, resolved, "upgraded to P1", "paging again")."""
    prefix = "[DRILL] " if drill else ""
    return to_gsm7(
        f"{prefix}[{priority}] #{incident_number} {what.upper()}: {title}. "
        "FYI only, no action needed."
    )


def status_update(incident_number: int, priority: str, text: str) -> str:
    """A responder's status update, for the stakeholders: `[P1] #42 update: ...`."""
    return to_gsm7(f"[{priority}] #{incident_number} update: {text}")


def action_item_reminder(item: int, incident_number: int, due: date, title: str) -> str:
    return to_gsm7(
        f"Reminder: action item {item} from #{incident_number} is overdue (due {due}): {title}"
    )


def review_reminder(incident_number: int, title: str) -> str:
    return to_gsm7(
        f"Reminder: #{incident_number} {title} (P1) was resolved "
        f"a week ago and has no review yet. pager review {incident_number}"
    )


def drill_summary(by: str | None) -> str:
    """The summary of a game-day drill's alert, and so of its page."""
    return (
        f"Game day drill started by {by or 'someone'}: please acknowledge as you would a real page"
    )


# Answers to a reply (SMS) or a keypress (voice).


def help_text() -> str:
    """The short reply to a message we did not understand (one GSM-7 segment)."""
    return (
        "pager: reply 42A to ack incident 42, 42R resolve, 42E escalate, "
        "42U <text> to post an update. A alone acks your newest page."
    )


NOTHING_TO_ACT_ON = "No page to act on. Reply like 42A with the incident number."
OUT_OF_DATE_CALL = "This call is not the current page. Goodbye."
MACHINE_ANSWERED = "This call was answered by a machine, so it cannot act on the page. Goodbye."
NO_KEY_PRESSED = "We did not get a key press. Goodbye."
_PAST = {"ack": "acknowledged", "resolve": "resolved", "escalate": "escalated"}


def refusal(incident_number: int) -> str:
    """To someone who may not act on the incident (pager.twilio_hooks.responders)."""
    return f"You were not paged for #{incident_number}, so you cannot act on it."


def no_incident(incident_number: int) -> str:
    return f"No incident #{incident_number}."


def update_posted(incident_number: int) -> str:
    return f"Update posted to #{incident_number}."


_ACTED_LISTED = 10  # a reply to a storm's bundle acts on thousands: one short SMS says so


def acted(action: str, done: Sequence[int], skipped: Sequence[int]) -> str:
    """What an ack, resolve or escalate did: `Acknowledged #41, #42.`, or, when it
    changed nothing, `#41 cannot be acknowledged now (already done?).` Beyond ten
    incidents, the first ten and how many more (Twilio refuses a reply of more
    than 1,600 characters: a bundle's "A" went unanswered)."""
    past = _PAST[action]
    if done:
        return f"{past.capitalize()} {_numbers(done)}."
    return f"{_numbers(skipped)} cannot be {past} now (already done?)."


def _numbers(incidents: Sequence[int]) -> str:
    listed = ", ".join(f"#{n}" for n in incidents[:_ACTED_LISTED])
    rest = len(incidents) - _ACTED_LISTED
    return f"{listed} and {rest} more" if rest > 0 else listed


def already_settled(incident_number: int, state: str, by: str | None) -> str:
    """A page call answered after someone else acted on its incident."""
    who = f" by {by}" if by else ""
    return f"Incident {incident_number} was already {state}{who}. Nothing to do. Goodbye."
