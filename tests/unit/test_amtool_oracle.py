"""The real amtool as the oracle: the same matcher strings through Alertmanager and pager.

Debian's prometheus-alertmanager (0.25, installed by .ci) ships amtool. For each
matcher string, `amtool check-config` of a route with `matchers: [string]` gives
Alertmanager's verdict, and `amtool config routes test` of one config holding
every accepted string as a `continue: true` route says which of them match a
label set. pager must agree case by case:
* its classic parser (Alertmanager's only parser up to 0.26, the fallback since)
  accepts exactly what amtool accepts, and matches exactly what it matches;
* its default reading (parse_matchers, Alertmanager 0.27+) of every string
  amtool accepts either matches exactly as amtool does, or is refused as
  ambiguous (both parsers accept it and disagree; see pager.labels.parse).
This amtool predates the UTF-8 parser, so what only that parser accepts is
tested against Alertmanager's own test tables instead (test_matcher_parse.py).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from pager.labels import AmbiguousMatcherError, Matcher, MatcherError, matches_all, parse_matchers
from pager.labels.classic import parse_classic
from pager.labels.matcher import openmetrics_escape

AMTOOL = shutil.which("amtool")
pytestmark = [
    pytest.mark.alertmanager,
    pytest.mark.skipif(
        AMTOOL is None, reason="amtool missing: .ci installs prometheus-alertmanager"
    ),
]

WRITTEN = [
    # the operators, quoting and escapes (Alertmanager's pkg/labels tests and more)
    'foo="bar"',
    "foo=bar",
    'foo!="bar"',
    'foo=~"bar.*"',
    'foo!~"bar.*"',
    "foo=",
    'foo=""',
    '{foo="bar", baz!="quux"}',
    "foo=bar,dings!=bums",
    '{foo = "bar", dings != "bums", }',
    'foo="bar,quux", job="job1"',
    'quote="She said: \\"Hi, ladies!\\""',
    "tricky=~~~",
    'trickier==\\\\=\\=\\"',
    'contains_quote != "\\"" , contains_comma !~ "foo,bar" , ',
    'job="value',
    'job=value"',
    'contains_unescaped_quote = foo"bar',
    "{invalid-name = 1}",
    '"foo=\\"bar"',
    "a=1,,b=2",
    "a=1,b=2",
    "{foo=bar}}",
    "{{foo=bar}",
    "foo=bar baz",
    'foo="\\x41"',
    'foo="a\\tb"',
    'foo="a\\nb"',
    'foo="a\\\\b"',
    "foo=a\\nb",
    "foo=\\",
    "foo==bar",
    "foo=!bar",
    "foo!bar",
    "",
    "{}",
    ",",
    "foo=~",
    "foo=~,bar=1",
    "🙂=x",
    "foo🙂=bar",
    "a:b_c=x y",
    "_x=1",
    "9x=1",
    "foo= bar ",
    'foo="bar"x',
    'foo=" a "',
    # regexes: anchoring, Go's RE2 syntax and its limits
    'job=~"api"',
    'job=~"a|b"',
    'job=~"a)|(b"',
    'job=~".+"',
    'job!~".+"',
    'job=~".*"',
    'job=~"(?i)i"',
    'job=~"(?i)k"',
    'job=~"(?i)σ"',
    'job=~"\\\\B"',
    'job=~"\\\\b"',
    'job=~"\\\\pL+"',
    'job=~"\\\\p{Greek}+"',
    'job=~"\\\\d"',
    'job=~"\\\\w+"',
    'job=~"."',
    'job=~"(?s)."',
    'job=~"[[:alpha:]]+"',
    'job=~"\\\\Qa.b\\\\E"',
    'job=~"a{,3}"',
    'job=~"x{1001}"',
    'job=~"(x{2}){501}"',
    'job=~"(x{2}){500}"',
    'job=~"\\\\C"',
    'job=~"(?<n>a)"',
    'job=~"(?P<n>a)(?P<n>b)"',
    'job=~"(?P<1n>a)"',
    'job=~"(?=a)"',
    'job=~"\\\\z"',
    'job=~"\\\\Z"',
    'job=~"(?U)a+"',
    'job=~"a**"',
    'job=~"\\\\1"',
    'job=~"[b-a]"',
    'job=~"(a+)+b"',
    'job=~"([a-z0-9]+[-.]?)+:9100"',
    "job=~a.*b",
    'job=~"\\\\Qab"',
    'job=~"x)"',
    'job=~"a\\\\.b"',
    'job=~"a\\.b"',
    'job=~"\\\\x{41}"',
    'job=~"\\\\101"',
    'job=~"$^"',
]
ALPHABET = 'ab=!~",\\{} n.*|()1x'
NAMES = ("a", "b", "job")


def _random_cases(count: int) -> list[str]:
    """Matcher-like strings from a fixed seed: mostly name, operator, value; some noise."""
    rng = random.Random(13)
    cases = []
    for _ in range(count):
        parts = []
        for _ in range(rng.choice((1, 1, 1, 2))):
            value = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 5)))
            if rng.random() < 0.5:
                value = f'"{value}"'
            op = rng.choice(("=", "!=", "=~", "!~", "=", "=="))
            parts.append(f"{rng.choice(NAMES)}{rng.choice(('', ' '))}{op}{value}")
        text = rng.choice((",", ", ")).join(parts)
        cases.append(f"{{{text}}}" if rng.random() < 0.2 else text)
    return cases


CASES = list(dict.fromkeys(WRITTEN + _random_cases(240)))
VALUES: tuple[str, ...] = ("", "a", "b", "ab", "api", "api-2", "bar", "x y", "1", 'a"b')
VALUES += ("a,b", "\\", "a.b", "axb", "aa", "i", "ı", "İ", "K", "ς", "αβ", "٣", "été", "\n")
VALUES += ("a\nb", "A")
LABEL_SETS: list[dict[str, str]] = (
    [{}] + [{"job": v} for v in VALUES] + [{"a": v, "b": v} for v in VALUES[:12]]
)
LABEL_SETS += [{"foo": "bar"}, {"foo": "bar", "dings": "x", "baz": "q", "job": "job1"}]
LABEL_SETS += [{"a": "1", "b": "2"}, {"a": "1"}, {"foo": "A"}, {"foo": "\\x41"}, {"foo": ""}]


def _yaml_quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _yaml_routes(cases: list[str]) -> str:
    routes = "".join(
        f"    - {{receiver: r{i}, continue: true, matchers: [{_yaml_quoted(c)}]}}\n"
        for i, c in enumerate(cases)
    )
    receivers = ", ".join(f"{{name: r{i}}}" for i in range(len(cases)))
    return (
        f"route:\n  receiver: miss\n  routes:\n{routes}receivers: [{{name: miss}}, {receivers}]\n"
    )


def _amtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert AMTOOL is not None
    return subprocess.run([AMTOOL, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bool]:
    """Alertmanager's verdict on each case: does a route with it load?"""
    directory = tmp_path_factory.mktemp("amtool")

    def check(index: int) -> bool:
        config = directory / f"case{index}.yml"
        config.write_text(_yaml_routes([CASES[index]]), encoding="utf-8")
        return _amtool("check-config", str(config)).returncode == 0

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(CASES, pool.map(check, range(len(CASES))), strict=True))


@pytest.fixture(scope="module")
def routed(verdicts: dict[str, bool], tmp_path_factory: pytest.TempPathFactory):
    """For each label set, the accepted cases whose route Alertmanager says matches it."""
    accepted = [case for case, ok in verdicts.items() if ok]
    config = tmp_path_factory.mktemp("routes") / "all.yml"
    config.write_text(_yaml_routes(accepted), encoding="utf-8")

    def route(labels: dict[str, str]) -> set[str]:
        args = [f'{k}="{openmetrics_escape(v)}"' for k, v in labels.items()]
        done = _amtool("config", "routes", "test", f"--config.file={config}", *args)
        assert done.returncode == 0, done.stderr
        names = done.stdout.strip().split(",")
        return {accepted[int(n[1:])] for n in names if n != "miss"}

    with ThreadPoolExecutor(2) as pool:
        return accepted, list(pool.map(route, LABEL_SETS))


def _classic(case: str) -> list[Matcher] | None:
    try:
        return parse_classic(case)
    except MatcherError:
        return None


def _disagreements(
    accepted: list[str], by_set: list[set[str]], read: dict[str, list[Matcher]]
) -> Iterator[str]:
    for labels, hits in zip(LABEL_SETS, by_set, strict=True):
        for case in accepted:
            if case in read and matches_all(read[case], labels) != (case in hits):
                yield f"{case!r} on {labels!r}: amtool says {case in hits}"


def test_the_oracle_has_cases_of_both_verdicts(verdicts) -> None:
    assert sum(verdicts.values()) > 120
    assert sum(not ok for ok in verdicts.values()) > 60


def test_the_classic_parser_accepts_what_amtool_accepts(verdicts) -> None:
    wrong = [case for case, ok in verdicts.items() if (_classic(case) is not None) != ok]
    assert wrong == [], f"verdicts differ from amtool's on {wrong}"


def test_the_classic_parser_matches_what_amtool_matches(routed) -> None:
    accepted, by_set = routed
    read = {case: found for case in accepted if (found := _classic(case)) is not None}
    assert list(_disagreements(accepted, by_set, read)) == []


def test_the_default_reading_matches_as_alertmanager_or_refuses_to_guess(routed) -> None:
    accepted, by_set = routed
    read, ambiguous = {}, []
    for case in accepted:
        try:
            read[case] = list(parse_matchers(case).matchers)
        except AmbiguousMatcherError:
            ambiguous.append(case)
    assert list(_disagreements(accepted, by_set, read)) == []
    assert 'foo="\\x41"' in ambiguous  # 'A' to the UTF-8 parser, '\x41' to the classic one
    assert len(read) > len(ambiguous) * 5


def test_the_written_cases_reach_every_outcome(verdicts, routed) -> None:
    _accepted, by_set = routed
    assert verdicts['job=~"a)|(b"']
    assert verdicts["a=1,b=2"]
    assert verdicts["foo="]
    assert not verdicts['job=~"\\\\C"']
    assert not verdicts['job=~"(?<n>a)"']
    assert not verdicts['job=~"(x{2}){501}"']
    assert not verdicts["foo🙂=bar"]
    hits = dict(zip(map(json.dumps, LABEL_SETS), by_set, strict=True))
    assert 'job=~"a)|(b"' in hits[json.dumps({"job": "axb"})]  # ^(?:a)|(b)$: a prefix is enough
    assert 'job=~"(?i)i"' not in hits[json.dumps({"job": "ı"})]
    assert 'job=~"\\\\B"' in hits[json.dumps({"job": ""})]
