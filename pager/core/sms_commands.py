"""Parse an inbound SMS reply into a Command (pure: no I/O, never raises).

Grammar, case-insensitive; surrounding whitespace and punctuation are ignored
and an incident number may carry a '#':

    42A  42R  42E              act on incident 42 (ack / resolve / escalate)
    42 A                       the same, with a space (phones insert them)
    ACK 42  A 42  A42          verb first: ACK|ACKNOWLEDGE|A, RESOLVE|R, ESCALATE|E
    A  ACK  R  E               no number: the newest incident paged to the sender
    42U <text>                 post a status update on incident 42
    UPDATE 42 <text>  U 42 <text>
    STOP UNSUBSCRIBE CANCEL END QUIT STOPALL OPTOUT REVOKE    -> STOP
    START UNSTOP YES                                          -> START
    anything else (HELP, "ok", "thanks", "42X")               -> HELP

STOP/START are Twilio's opt-out and opt-in keywords: Twilio answers them
itself and blocks further messages, so they are recognised only so that the
daemon does not answer them with help. An UPDATE without text is HELP.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Action(enum.StrEnum):
    ACK = "ack"
    RESOLVE = "resolve"
    ESCALATE = "escalate"
    UPDATE = "update"
    HELP = "help"
    STOP = "stop"
    START = "start"


@dataclass(frozen=True, slots=True)
class Command:
    action: Action
    incident: int | None = None  # None: the newest incident paged to the sender
    text: str | None = None  # the status update of an UPDATE


_VERBS = {
    "A": Action.ACK,
    "ACK": Action.ACK,
    "ACKNOWLEDGE": Action.ACK,
    "R": Action.RESOLVE,
    "RESOLVE": Action.RESOLVE,
    "E": Action.ESCALATE,
    "ESCALATE": Action.ESCALATE,
}
_OPT_WORDS = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"),
        Action.STOP,
    ),
    **dict.fromkeys(("START", "UNSTOP", "YES"), Action.START),
}
_VERB = "|".join(sorted(_VERBS, key=len, reverse=True))
_NUMBER = r"#?\s*(?P<n>[0-9]{1,9})"
_EDGES = " \t\r\n.,;:!?\"'()[]<>*-"

_NUMBER_FIRST = re.compile(rf"{_NUMBER}\s*-?\s*(?P<verb>{_VERB})", re.IGNORECASE | re.ASCII)
_VERB_FIRST = re.compile(rf"(?P<verb>{_VERB})\s*[:,-]?\s*{_NUMBER}", re.IGNORECASE | re.ASCII)
_UPDATE = re.compile(
    rf"(?:{_NUMBER}\s*U|(?:UPDATE|U)\s*[:,-]?\s*{_NUMBER.replace('<n>', '<n2>')})"
    r"(?:\s*[:,-]\s*|\s+)(?P<text>\S.*)",
    re.IGNORECASE | re.ASCII | re.DOTALL,
)


def parse_reply(text: str) -> Command:
    """The command an inbound SMS body asks for; HELP when it asks for nothing we know."""
    update = _UPDATE.fullmatch(text.strip())
    if update:
        number = update.group("n") or update.group("n2")
        return Command(Action.UPDATE, int(number), update.group("text").strip())
    word = text.strip(_EDGES)
    upper = word.upper()
    if upper in _OPT_WORDS:
        return Command(_OPT_WORDS[upper])
    if upper in _VERBS:
        return Command(_VERBS[upper])
    for pattern in (_NUMBER_FIRST, _VERB_FIRST):
        match = pattern.fullmatch(word)
        if match:
            return Command(_VERBS[match.group("verb").upper()], int(match.group("n")))
    return Command(Action.HELP)
