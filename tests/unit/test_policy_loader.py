"""Loading a policy directory: merging files, every error at once with lines, warnings."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from pager.core.classify import classify
from pager.policy.errors import PolicyIssue
from pager.policy.loader import PolicyError, check_directory, load_policy, run_check

PEOPLE = """\
people:
  - id: alice
    phone: "+15550100001"
  - id: bob
    phone: "+15550100002"
"""
ROTATIONS = """\
rotations:
  - id: primary
    shift: 1w
    handoff: "2026-01-05T09:00"
    members: [alice, bob]
escalation_policies:
  - id: team
    levels:
      - {targets: [rotation:primary], ack_timeout: 5m}
      - {targets: [person:bob]}
"""
RULES = """\
priorities:
  P1: {}
  P2: {channels: [sms]}
rules:
  - matchers: ['severity="critical"']
    priority: P1
    escalation: team
    runbook: https://runbooks.example.com/critical
default: {priority: P2, escalation: team}
"""


def _write(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name.replace("__", ".")).write_text(dedent(text))
    return directory


def _errors(directory: Path) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy(directory)
    return [str(issue) for issue in caught.value.issues]


def test_files_merge(tmp_path: Path) -> None:
    more = "people:\n  - id: carol\n    phone: '+15550100003'\npriorities:\n  P3: {}\n"
    _write(tmp_path, a__yaml=PEOPLE, b__yml=ROTATIONS, c__yaml=RULES, d__yaml=more)
    loaded = load_policy(tmp_path)
    assert loaded.files == ["a.yaml", "b.yml", "c.yaml", "d.yaml"]
    assert [p.id for p in loaded.policy.people] == ["alice", "bob", "carol"]  # in file order
    assert sorted(loaded.policy.priorities) == ["P1", "P2", "P3"]
    assert loaded.policy.rotation("primary").shift == timedelta(weeks=1)
    assert loaded.warnings == []


def test_subdirectories_hidden_and_other_files_are_not_read(tmp_path: Path) -> None:
    _write(tmp_path, a__yaml=PEOPLE + ROTATIONS + RULES, notes__txt="people: [broken")
    _write(tmp_path / "sub", x__yaml="people: [broken")
    _write(tmp_path, **{"__swp__yaml": "people: [broken"})  # ".swp.yaml", an editor's file
    assert load_policy(tmp_path).files == ["a.yaml"]


def test_every_error_is_reported_at_once_with_its_line(tmp_path: Path) -> None:
    people = """\
        people:
          - id: alice
            phone: "+15550100001"
            timezone: Mars/Olympus
          - id: bob
            phone: "555"
            notify: [{channel: pigeon}]
        """
    rules = RULES.replace("escalation: team\n    runbook", "escalation: nope\n    runbook")
    _write(tmp_path, a__yaml=people, b__yaml=ROTATIONS.replace("1w", "1x"), c__yaml=rules)
    assert _errors(tmp_path) == [
        "a.yaml:4: people[0].timezone: unknown time zone 'Mars/Olympus'",
        "a.yaml:6: people[1].phone: phone '555' is not E.164 (like +15550100001)",
        "a.yaml:7: people[1].notify[0].channel: expected 'sms' or 'voice', got 'pigeon'",
        "b.yaml:3: rotations[0].shift: invalid duration '1x': use e.g. 30s, 5m, 1h30m, 2d, 1w, "
        "each unit once, largest first",
        "c.yaml:7: rules[0].escalation: unknown escalation policy 'nope'",
    ]


def test_an_invalid_item_still_has_its_references_checked(tmp_path: Path) -> None:
    rotations = ROTATIONS.replace("shift: 1w", "shift: soon").replace("bob]\n", "zed]\n", 1)
    _write(tmp_path, a__yaml=PEOPLE + rotations + RULES)
    assert _errors(tmp_path) == [
        "a.yaml:8: rotations[0].shift: invalid duration 'soon': use e.g. 30s, 5m, 1h30m, 2d, "
        "1w, each unit once, largest first",
        "a.yaml:10: rotations[0].members[1]: unknown person 'zed'",
    ]


def test_an_invalid_person_is_still_known_by_id(tmp_path: Path) -> None:
    _write(tmp_path, a__yaml=PEOPLE.replace('"+15550100002"', "nope") + ROTATIONS + RULES)
    assert _errors(tmp_path) == [
        "a.yaml:5: people[1].phone: phone 'nope' is not E.164 (like +15550100001)"
    ]  # and no "unknown person 'bob'" for the rotation or the level


def test_duplicates_across_files_name_the_first(tmp_path: Path) -> None:
    again = "people:\n  - id: bob\n    phone: '+15550100009'\n"
    again += "default: {priority: P1, escalation: team}\n"
    _write(tmp_path, a__yaml=PEOPLE + ROTATIONS + RULES, b__yaml=again)
    assert _errors(tmp_path) == [
        "b.yaml:2: people[0].id: duplicate id 'bob' (first defined at a.yaml:4)",
        "b.yaml:4: default: already defined at a.yaml:24; define it in one file",
    ]


def test_yaml_12_scalars(tmp_path: Path) -> None:
    priorities = "priorities:\n  P3: {hours: {days: mon-fri, from: 09:00, to: 18:00}}\n"
    _write(tmp_path, a__yaml=PEOPLE + ROTATIONS + RULES, b__yaml=priorities)
    hours = load_policy(tmp_path).policy.priorities["P3"].hours
    assert not isinstance(hours, str)
    assert (hours.from_, hours.to) == ("09:00", "18:00")  # not the sexagesimal 1080


def test_unquoted_phone_number_gets_a_hint(tmp_path: Path) -> None:
    _write(tmp_path, a__yaml=PEOPLE.replace('"+15550100002"', "+15550100002") + ROTATIONS + RULES)
    assert _errors(tmp_path) == [
        "a.yaml:5: people[1].phone: expected text, got the number 15550100002: write it in quotes"
    ]


def test_unknown_keys_list_the_known_ones(tmp_path: Path) -> None:
    _write(tmp_path, a__yaml=PEOPLE + ROTATIONS + RULES + "rule:\n  - {}\n")
    assert _errors(tmp_path) == [
        "a.yaml:25: unknown section 'rule' (expected one of: people, rotations, "
        "escalation_policies, priorities, throttle, rules, heartbeats, default)"
    ]


def test_union_errors_keep_the_branch_that_fits(tmp_path: Path) -> None:
    bad = RULES.replace("P2: {channels: [sms]}", "P2: {hours: {days: someday}}")
    _write(tmp_path, a__yaml=PEOPLE + ROTATIONS + bad)
    assert _errors(tmp_path) == [
        "a.yaml:18: priorities.P2.hours.days: invalid days 'someday': use e.g. mon-fri or sat,sun"
    ]


def test_a_broken_file_does_not_cascade_into_other_errors(tmp_path: Path) -> None:
    _write(tmp_path, a__yaml="people:\n  - id: [alice\n", b__yaml=ROTATIONS + RULES)
    errors = _errors(tmp_path)
    assert len(errors) == 1
    assert errors[0].startswith("a.yaml:3: invalid YAML:")


def test_warnings(tmp_path: Path) -> None:
    rules = """\
        rules:
          - matchers: ['severity="critical"']
            priority: P1
            escalation: team
          - matchers: ['job="backup"']
            heartbeat: {expect_every: 1d, priority: P2, escalation: team}
        rotations:
          - {id: spare, shift: 1d, handoff: "2026-01-05T09:00", members: []}
        """
    _write(tmp_path, a__yaml=PEOPLE + ROTATIONS + RULES.split("rules:")[0], b__yaml=rules)
    (tmp_path / "c.yaml").write_text("default: {priority: P2, escalation: team}\n")
    loaded = load_policy(tmp_path)
    assert [str(warning) for warning in loaded.warnings] == [
        "b.yaml:2: warning: rules[0]: P1 rule has no runbook: add runbook: <url> "
        "so the page says what to do",
        "b.yaml:5: warning: rules[1].matchers: heartbeat rule does not match on alertname: "
        "every alert it matches is a ping",
        "b.yaml:8: warning: rotations[0]: rotation 'spare' has no members: "
        "only overrides can page through it",
    ]


def test_two_people_with_one_phone_are_a_warning(tmp_path: Path) -> None:
    shared = PEOPLE.replace("+15550100002", "+15550100001")
    _write(tmp_path, a__yaml=shared + ROTATIONS + RULES)
    assert [str(warning) for warning in load_policy(tmp_path).warnings] == [
        "a.yaml:5: warning: people[1].phone: phone +15550100001 is also alice's (a.yaml:3): "
        "a reply from it acts as alice"
    ]


def test_a_matcher_only_the_classic_parser_reads_is_a_warning(tmp_path: Path) -> None:
    rules = RULES.replace(
        "['severity=\"critical\"']", "['severity=\"critical\"', 'job=~\"a\\\\.b\"']"
    )
    rules = rules.replace("'job=~\"a\\\\.b\"'", "'job=~\"a\\.b\"'")
    _write(tmp_path, a__yaml=PEOPLE + ROTATIONS + rules)
    loaded = load_policy(tmp_path)
    assert [str(warning) for warning in loaded.warnings] == [
        "a.yaml:20: warning: rules[0].matchers[1]: 'job=~\"a\\.b\"' is read by Alertmanager's "
        'classic parser only (column 6: "a\\.b": unknown escape \\.); write '
        'job=~"a\\\\.b" so it stays valid in UTF-8 strict mode'
    ]
    assert loaded.policy.rules[0].matchers[1] == 'job=~"a\\.b"'


def test_one_item_may_hold_several_matchers(tmp_path: Path) -> None:
    rules = RULES.replace("['severity=\"critical\"']", "['{severity=\"critical\",team=db}']")
    _write(tmp_path, a__yaml=PEOPLE + ROTATIONS + rules)

    policy = load_policy(tmp_path).policy
    assert classify(policy, {"severity": "critical", "team": "db"}).rule_index == 0
    assert classify(policy, {"severity": "critical", "team": "web"}).rule_index is None


def test_run_check_prints_issues_and_returns_the_status(tmp_path: Path) -> None:
    good = _write(tmp_path / "good", a__yaml=PEOPLE + ROTATIONS + RULES)
    out = io.StringIO()
    assert run_check(good, out) == 0
    assert out.getvalue() == f"{good}: valid (0 error(s), 0 warning(s))\n"

    bad = _write(tmp_path / "bad", a__yaml=PEOPLE + ROTATIONS.replace("5m", "5") + RULES)
    out = io.StringIO()
    assert run_check(bad, out) == 1
    assert out.getvalue().splitlines() == [
        "a.yaml:14: escalation_policies[0].levels[0].ack_timeout: "
        "duration 5 needs a unit, e.g. 5s or 5m",
        f"{bad}: invalid (1 error(s), 0 warning(s))",
    ]


def test_check_directory_on_missing_and_empty_directories(tmp_path: Path) -> None:
    assert check_directory(tmp_path / "nope") == (
        [PolicyIssue(str(tmp_path / "nope"), 0, "not a directory")],
        1,
    )
    issues, status = check_directory(tmp_path)
    assert status == 1
    assert [str(issue) for issue in issues] == [
        f"{tmp_path}: no policy files (*.yaml or *.yml) here"
    ]


def test_issue_text() -> None:
    assert str(PolicyIssue("a.yaml", 3, "bad")) == "a.yaml:3: bad"
    assert str(PolicyIssue("a.yaml", 3, "odd", "warning")) == "a.yaml:3: warning: odd"
    assert str(PolicyIssue("policies", 0, "empty")) == "policies: empty"
