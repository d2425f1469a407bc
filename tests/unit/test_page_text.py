"""page_text: the SMS page, the bundle and the voice script."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pager
from pager.core import page_text
from pager.core.page_text import (
    SEGMENT,
    VOICE_MENU,
    Bundled,
    bundle_order,
    gsm7_length,
    is_gsm7,
    reply_instructions,
    shorten,
    sms_bundle,
    sms_page,
    to_gsm7,
    voice_bundle,
    voice_script,
)
from pager.core.sms_commands import Action, Command, parse_reply

RUNBOOK = "https://runbooks.example.com/api/high-error-rate"


def test_page_has_the_contract_format() -> None:
    text = sms_page(42, "P1", "HighErrorRate api", 3, "5xx above 5% for 10m")

    # The contract's "—" is sent as "-" so the page stays GSM-7 (160, not 70 chars).
    assert text == (
        "[P1] #42 HighErrorRate api (3 alerts) - 5xx above 5% for 10m. "
        "Reply 42A ack, 42R resolve, 42E escalate"
    )


def test_one_alert_is_not_counted_and_a_drill_says_so() -> None:
    text = sms_page(7, "P2", "DiskFull db-1", 1, "93% used", drill=True)

    assert text == "[DRILL] [P2] #7 DiskFull db-1 - 93% used. Reply 7A ack, 7R resolve, 7E escalate"


def test_no_summary_no_dash() -> None:
    assert sms_page(7, "P2", "DiskFull", 1, "  ") == (
        "[P2] #7 DiskFull. Reply 7A ack, 7R resolve, 7E escalate"
    )


def test_a_long_summary_is_cut_not_the_instructions() -> None:
    summary = "The error rate of the api service is above five percent " * 4

    text = sms_page(42, "P1", "HighErrorRate api", 3, summary)

    assert gsm7_length(text) <= SEGMENT
    assert text.startswith("[P1] #42 HighErrorRate api (3 alerts) - The error rate")
    assert text.endswith("... Reply 42A ack, 42R resolve, 42E escalate")


def test_non_gsm7_characters_are_transliterated() -> None:
    text = sms_page(5, "P1", "Zürich “edge” — down", 1, "Łódź… ⚠ café")

    assert is_gsm7(text)
    assert text.startswith('[P1] #5 Zürich "edge" - down - ?odz... ? café.')


def test_runbook_is_appended_when_it_fits() -> None:
    text = sms_page(42, "P1", "HighErrorRate api", 3, "5xx above 5%", runbook_url=RUNBOOK)

    assert text.endswith(f"42E escalate\n{RUNBOOK}")
    assert gsm7_length(text) <= SEGMENT


def test_runbook_never_costs_the_summary_or_a_second_segment() -> None:
    summary = "x" * 100
    without = sms_page(42, "P1", "HighErrorRate api", 3, summary)

    assert sms_page(42, "P1", "HighErrorRate api", 3, summary, runbook_url=RUNBOOK) == without


@pytest.mark.parametrize("url", ["https://wiki/run book", "https://wiki/ünïcode", "   "])
def test_unsendable_runbook_urls_are_left_out(url: str) -> None:
    assert sms_page(1, "P1", "T", 1, "s", runbook_url=url) == sms_page(1, "P1", "T", 1, "s")


TEXT = st.text(max_size=400)
PRIORITY = st.integers(min_value=0, max_value=99).map(lambda p: f"P{p}")
NUMBER = st.integers(min_value=1, max_value=999_999_999)


@given(
    n=NUMBER,
    priority=PRIORITY,
    title=TEXT,
    count=st.integers(min_value=0, max_value=100_000),
    summary=TEXT,
    runbook=st.none() | st.text(max_size=120),
    drill=st.booleans(),
)
def test_any_page_is_one_gsm7_segment_with_whole_instructions(
    n: int, priority: str, title: str, count: int, summary: str, runbook: str | None, drill: bool
) -> None:
    text = sms_page(n, priority, title, count, summary, runbook_url=runbook, drill=drill)

    assert is_gsm7(text)
    assert gsm7_length(text) <= SEGMENT
    assert text.startswith(f"{'[DRILL] ' if drill else ''}[{priority}] #{n} ")
    assert text.split("\n")[0].endswith(reply_instructions(n))


@given(n=NUMBER)
def test_the_instructions_parse_back(n: int) -> None:
    # "Reply 42A ack, 42R resolve, 42E escalate": each example is a valid reply.
    examples = [
        word for word in reply_instructions(n).replace(",", "").split() if word[0].isdigit()
    ]

    assert [parse_reply(word) for word in examples] == [
        Command(Action.ACK, n),
        Command(Action.RESOLVE, n),
        Command(Action.ESCALATE, n),
    ]


def test_bundle_lists_the_incidents_by_title_highest_priority_first() -> None:
    incidents = [Bundled(41, "P2", "Foo"), Bundled(42, "P1", "Bar"), Bundled(43, "P2", "Baz")]
    text = sms_bundle(incidents)

    # P1 first; within a priority the newest first (the storm is the oldest)
    assert text == "[P1] 3 more incidents: #42 Bar, #43 Baz, #41 Foo. Reply A to ack all"


def test_bundle_order_ranks_priorities_by_number() -> None:
    order = bundle_order([Bundled(1, "P10", "a"), Bundled(2, "P2", "b"), Bundled(3, "P2", "c")])

    assert [b.number for b in order] == [3, 2, 1]


def test_within_a_priority_the_rarest_alert_name_comes_first() -> None:
    storm = [Bundled(n, "P1", f"HighErrorRate svc-{n}") for n in range(10, 50) if n != 30]
    watchdog = Bundled(30, "P1", "Heartbeat Watchdog missing")  # older than half the storm

    text = sms_bundle([*storm[:20], watchdog, *storm[20:]])

    assert text.startswith("[P1] 40 more incidents: #30 Heartbeat Watchdog missing, #49 High")
    assert text.endswith(" more. Reply A to ack all")


def test_bundle_of_one() -> None:
    assert sms_bundle([Bundled(9, "P2", "Foo")], drill=True) == (
        "[DRILL] [P2] 1 more incident: #9 Foo. Reply A to ack all"
    )


def test_a_big_bundle_lists_the_titles_that_fit_then_how_many_more() -> None:
    incidents = [Bundled(1000 + i, "P1", f"Some long alert title number {i}") for i in range(40)]

    text = sms_bundle(incidents)

    assert gsm7_length(text) <= SEGMENT
    assert text.startswith(
        "[P1] 40 more incidents: #1039 Some long alert title numbe..., "
        "#1038 Some long alert title numbe... and 38 more"
    )
    shown = text.count("#")
    assert text.endswith(f" and {40 - shown} more. Reply A to ack all")
    assert shown >= 2


def test_a_storm_s_bundle_lists_what_fits_of_tens_of_thousands() -> None:
    incidents = [Bundled(n, "P1", "Storm") for n in range(1, 50_001)]

    text = sms_bundle(incidents)

    shown = text.count("#")
    assert text.startswith("[P1] 50000 more incidents: #50000 Storm, #49999 Storm, ")
    assert text.endswith(f" and {50_000 - shown} more. Reply A to ack all")
    assert gsm7_length(text) <= SEGMENT < gsm7_length(text) + len(", #40000 Storm")


def _most_that_fit(titled: list[str], room: int) -> int:
    """As many titles as fit in `room`, each count tried (the reference)."""
    for shown in range(len(titled), 0, -1):
        rest = len(titled) - shown
        if gsm7_length(", ".join(titled[:shown]) + (f" and {rest} more" if rest else "")) <= room:
            return shown
    return 1


@given(
    incidents=st.lists(
        st.builds(Bundled, st.integers(1, 99), st.just("P1"), st.sampled_from(["", "a", "Db"])),
        min_size=1,
        max_size=80,
    )
)
def test_a_bundle_shows_as_many_titles_as_fit(incidents: list[Bundled]) -> None:
    listed = bundle_order(incidents)
    head = f"[P1] {len(listed)} more {'incident' if len(listed) == 1 else 'incidents'}: "
    room = SEGMENT - gsm7_length(head + ". Reply A to ack all")
    titled = [f"#{b.number} {b.title}".rstrip() for b in listed]

    assert sms_bundle(incidents).count("#") == _most_that_fit(titled, room)


def test_voice_bundle_names_the_first_five_highest_priority_first() -> None:
    incidents = [Bundled(n, "P2" if n % 2 else "P1", f"Alert {n}") for n in range(1, 9)]

    assert voice_bundle(incidents) == (
        "This is pager, priority 1. 8 more incidents: incident 8, Alert 8; incident 6, "
        "Alert 6; incident 4, Alert 4; incident 2, Alert 2; incident 7, Alert 7; and 3 more. "
        "For all of them: Press 1 to acknowledge, 2 to escalate, 3 to resolve."
    )


@given(
    incidents=st.lists(st.builds(Bundled, NUMBER, PRIORITY, TEXT), min_size=1, max_size=60),
    drill=st.booleans(),
)
def test_any_bundle_is_one_gsm7_segment_with_a_title(incidents: list[Bundled], drill: bool) -> None:
    text = sms_bundle(incidents, drill=drill)

    assert is_gsm7(text)
    assert gsm7_length(text) <= SEGMENT
    assert text.endswith(". Reply A to ack all")
    first = bundle_order(incidents)[0]
    assert f": #{first.number}" in text
    assert text.startswith(f"{'[DRILL] ' if drill else ''}[{to_gsm7(first.priority)}]")


def test_voice_script_reads_the_page_then_the_menu() -> None:
    script = voice_script(42, "P1", "HighErrorRate api", 3, "5xx above 5%.", drill=True)

    assert script == (
        "This is a drill. This is pager, priority 1. Incident 42: HighErrorRate api. "
        "3 alerts. 5xx above 5%. Press 1 to acknowledge, 2 to escalate, 3 to resolve."
    )
    assert script.endswith(VOICE_MENU)


def test_voice_script_keeps_a_long_summary_short() -> None:
    script = voice_script(1, "P1", "T", 1, "word " * 500)

    assert len(script) < 450
    assert script.endswith(VOICE_MENU)


@pytest.mark.parametrize(
    ("text", "gsm", "septets"),
    [("abc", True, 3), ("€", True, 2), ("{[]}", True, 8), ("—", False, 1), ("日", False, 1)],
)
def test_gsm7_charset(text: str, gsm: bool, septets: int) -> None:
    assert is_gsm7(text) is gsm
    assert gsm7_length(text) == septets


@given(st.text())
def test_to_gsm7_always_yields_gsm7(text: str) -> None:
    assert is_gsm7(to_gsm7(text))


@given(text=st.text(), room=st.integers(min_value=0, max_value=200))
def test_shorten_fits(text: str, room: int) -> None:
    cut = shorten(to_gsm7(text), room)

    assert gsm7_length(cut) <= room


def _text_made_outside_page_text(tree: ast.AST) -> Iterator[int]:
    """Lines that write a person's words themselves: a call of `to_gsm7`/`clean`
    (text made here, then made sendable), or an f-string in what becomes a
    notification's `body` (`body = ...`, `row.body = ...`, `body=...`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("to_gsm7", "clean"):
                yield node.lineno
            values = [k.value for k in node.keywords if k.arg == "body"]
        elif isinstance(node, ast.Assign):
            named = [t for t in node.targets if getattr(t, "id", getattr(t, "attr", "")) == "body"]
            values = [node.value] if named else []
        else:
            continue
        for value in values:
            if any(isinstance(part, ast.JoinedStr) for part in ast.walk(value)):
                yield node.lineno


def test_only_page_text_writes_what_a_person_reads() -> None:
    root = Path(pager.__file__).parent
    found = [
        f"{path.relative_to(root)}:{line}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "page_text.py"
        for line in _text_made_outside_page_text(ast.parse(path.read_text()))
    ]
    assert found == []


def test_the_text_guard_sees_text_made_elsewhere() -> None:
    source = (
        'body = page_text.to_gsm7(f"[{p}] #{n} update: {text}")\n'
        'row.body = f"#{n} resolved"\n'
        'info(key, body=f"Reminder: #{n}")\n'
    )
    assert sorted(_text_made_outside_page_text(ast.parse(source))) == [1, 1, 2, 3]


def test_replies_say_what_was_done_or_why_not() -> None:
    assert page_text.acted("ack", [41, 42], []) == "Acknowledged #41, #42."
    assert page_text.acted("resolve", [], [41]) == "#41 cannot be resolved now (already done?)."
    storm = list(range(1, 5001))
    acked = page_text.acted("ack", storm, [])
    assert acked == "Acknowledged #1, #2, #3, #4, #5, #6, #7, #8, #9, #10 and 4990 more."
    assert gsm7_length(acked) <= SEGMENT
    assert page_text.acted("ack", [], storm).endswith(
        " and 4990 more cannot be acknowledged now (already done?)."
    )
    assert page_text.already_settled(42, "acknowledged", "alice") == (
        "Incident 42 was already acknowledged by alice. Nothing to do. Goodbye."
    )


def test_notices_and_reminders_are_gsm7() -> None:
    texts = [
        page_text.resolved_notice(42, "P1", "Disk “full” — db", drill=True),
        page_text.stakeholder_notice(42, "P1", "upgraded to P1", "Disk…"),
        page_text.status_update(42, "P1", "rolling back → v2"),
        page_text.review_reminder(42, "Łódź down"),
    ]
    assert all(is_gsm7(t) for t in texts), texts
    assert texts[0] == '[DRILL] [P1] #42 RESOLVED Disk "full" - db'
