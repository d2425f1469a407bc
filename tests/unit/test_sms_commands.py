"""parse_reply: the reply grammar of pager's SMS pages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pager.core.page_text import gsm7_length, help_text, is_gsm7
from pager.core.sms_commands import Action, Command, parse_reply

ACK, RESOLVE, ESCALATE = Action.ACK, Action.RESOLVE, Action.ESCALATE

TABLE = [
    # the page's own instructions
    ("42A", Command(ACK, 42)),
    ("42R", Command(RESOLVE, 42)),
    ("42E", Command(ESCALATE, 42)),
    # case, whitespace and punctuation around the command are tolerated
    (" 42a ", Command(ACK, 42)),
    ("42a.", Command(ACK, 42)),
    ("Ack 42.", Command(ACK, 42)),
    ("ACK 42", Command(ACK, 42)),
    ("a 42", Command(ACK, 42)),
    ("A42", Command(ACK, 42)),
    ("ack #42!", Command(ACK, 42)),
    ("#42A", Command(ACK, 42)),
    ("acknowledge 42", Command(ACK, 42)),
    ("RESOLVE 42", Command(RESOLVE, 42)),
    ("R 42", Command(RESOLVE, 42)),
    ("resolve: 42", Command(RESOLVE, 42)),
    ("ESCALATE 42", Command(ESCALATE, 42)),
    ("E 42", Command(ESCALATE, 42)),
    # decided: a space (or dash) between number and letter is fine, phones add them
    ("42 a", Command(ACK, 42)),
    ("42 R", Command(RESOLVE, 42)),
    ("42-e", Command(ESCALATE, 42)),
    # no number: the newest incident paged to this phone
    ("A", Command(ACK)),
    ("ack", Command(ACK)),
    ("Ack!", Command(ACK)),
    ("R", Command(RESOLVE)),
    ("resolve", Command(RESOLVE)),
    ("E", Command(ESCALATE)),
    ("escalate.", Command(ESCALATE)),
    # status updates keep their text as typed
    ("42U Rolling back v2.3", Command(Action.UPDATE, 42, "Rolling back v2.3")),
    ("42u: DB failover done.", Command(Action.UPDATE, 42, "DB failover done.")),
    ("UPDATE 42 on it", Command(Action.UPDATE, 42, "on it")),
    ("update #42: on it", Command(Action.UPDATE, 42, "on it")),
    ("U 42 looking", Command(Action.UPDATE, 42, "looking")),
    ("42U", Command(Action.HELP)),  # an update says something
    ("UPDATE 42", Command(Action.HELP)),
    # Twilio's opt-out / opt-in words: never answered with help
    ("STOP", Command(Action.STOP)),
    ("stop.", Command(Action.STOP)),
    ("Unsubscribe", Command(Action.STOP)),
    ("STOPALL", Command(Action.STOP)),
    ("cancel", Command(Action.STOP)),
    ("quit", Command(Action.STOP)),
    ("START", Command(Action.START)),
    ("unstop", Command(Action.START)),
    # everything else gets help
    ("help", Command(Action.HELP)),
    ("ok thanks", Command(Action.HELP)),
    ("42", Command(Action.HELP)),
    ("42X", Command(Action.HELP)),
    ("A 42 43", Command(Action.HELP)),
    ("ack 42 please", Command(Action.HELP)),
    ("A 1234567890", Command(Action.HELP)),  # beyond any incident number
    ("", Command(Action.HELP)),
    ("   ", Command(Action.HELP)),
    ("٤٢A", Command(Action.HELP)),  # Arabic-Indic digits are not incident numbers
]


@pytest.mark.parametrize(("text", "command"), TABLE, ids=[repr(t) for t, _ in TABLE])
def test_reply_table(text: str, command: Command) -> None:
    assert parse_reply(text) == command


VERB_FORMS = {
    ACK: ["{n}A", "{n}a", "A {n}", "ACK {n}", "ack #{n}", "{n} A"],
    RESOLVE: ["{n}R", "R {n}", "RESOLVE {n}", "resolve {n}."],
    ESCALATE: ["{n}E", "E {n}", "ESCALATE {n}", " {n}e "],
}


@given(
    n=st.integers(min_value=0, max_value=999_999_999),
    action=st.sampled_from(sorted(VERB_FORMS)),
    data=st.data(),
)
def test_every_form_reads_back_the_number(n: int, action: Action, data: st.DataObject) -> None:
    form = data.draw(st.sampled_from(VERB_FORMS[action]))

    assert parse_reply(form.format(n=n)) == Command(action, n)


@given(st.text())
def test_any_text_parses_to_a_command(text: str) -> None:
    command = parse_reply(text)

    assert isinstance(command.action, Action)
    assert (command.text is not None) == (command.action is Action.UPDATE)


# A leading ':', ',' or '-' is taken as the separator ("42U - on it").
UPDATE_TEXT = st.text(min_size=1).map(str.strip).filter(lambda t: t != "" and t[0] not in ":,-")


@given(n=st.integers(min_value=1, max_value=10**6), text=UPDATE_TEXT)
def test_update_keeps_the_text(n: int, text: str) -> None:
    assert parse_reply(f"{n}U {text}") == Command(Action.UPDATE, n, text)


def test_help_text_is_one_gsm7_segment_and_explains_the_grammar() -> None:
    text = help_text()

    assert is_gsm7(text)
    assert gsm7_length(text) <= 160
    for example in ("42A", "42R", "42E", "42U"):
        assert example in text
    assert parse_reply(text).action is Action.HELP  # echoing it back does nothing
