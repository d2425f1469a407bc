"""Matching as Alertmanager matches: absent labels, anchoring, and Go's RE2 regexes.

The regex table is written from Go's regexp/syntax documentation and the
behaviour the issue reproduced against Go (``(?i)i`` never matches ``ı``,
``\\B`` matches the empty string, ``\\p{Greek}`` is a class); the same cases
run through the real amtool in test_amtool_oracle.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pager.labels import ENGINE, Matcher, MatcherError, MatchOp, matches_all, parse_matcher
from pager.labels.regex import compile_anchored


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ('job="api"', {"job": "api"}, True),
        ('job="api"', {"job": "api-2"}, False),
        ('job!="api"', {"job": "api-2"}, True),
        ('job!="api"', {"job": "api"}, False),
        ('job=~"api"', {"job": "api-2"}, False),  # anchored at both ends
        ('job=~"api"', {"job": "my-api"}, False),
        ('job=~"api.*"', {"job": "api-2"}, True),
        ('job!~"api"', {"job": "api-2"}, True),
        ('job!~"api|web"', {"job": "web"}, False),
        ('job=~"a|b"', {"job": "ab"}, False),  # ^(?:a|b)$, not ^a|b$
        ('job=~"a)|(b"', {"job": "a-and-more"}, True),  # ^(?:a)|(b)$, as Alertmanager builds it
        ('job=~"a)|(b"', {"job": "more-then-b"}, True),
        ('job=~"a)|(b"', {"job": "x"}, False),
        # an absent label counts as ""
        ('foo=""', {}, True),
        ('foo=""', {"foo": "x"}, False),
        ('foo!=""', {}, False),
        ('foo!=""', {"foo": "x"}, True),
        ('foo=~".*"', {}, True),
        ('foo=~".+"', {}, False),
        ('foo!~".+"', {}, True),
        ('foo="bar"', {}, False),
        ('foo!="bar"', {}, True),
        ('"service.name"="api"', {"service.name": "api"}, True),
        ('"service.name"="api"', {"service_name": "api"}, False),
    ],
)
def test_matches(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_matcher(text).matches(labels) is expected


@pytest.mark.parametrize(
    ("regex", "value", "expected"),
    [
        ("a(?i)b|c", "C", True),  # a flag lasts to the end of its group, across |
        ("a(?i)b|c", "aB", True),
        ("a(?i)b|c", "AB", False),
        ("(?i)CRIT.*", "critical", True),
        ("(?i)i", "I", True),
        ("(?i)i", "ı", False),  # Go folds i only with I, never with dotless or dotted i
        ("(?i)i", "İ", False),
        ("(?i)k", "\u212a", True),  # but k with the Kelvin sign, as Unicode's simple folding
        ("(?i)σ", "ς", True),
        (r"\B", "", True),  # no word boundary in the empty string
        (r"\b", "", False),
        (r"\bfoo\b", "foo", True),
        (r"\p{Greek}+", "αβγ", True),
        (r"\p{Greek}+", "abc", False),
        (r"\pL+", "été", True),
        (r"\PL", "1", True),
        (r"\p{Han}", "中", True),
        (r"\d+", "123", True),
        (r"\d", "\u0663", False),  # \d is ASCII only
        (r"\w+", "été", False),
        (r"\s", "\x0b", False),  # \s is [\t\n\f\r ], no \v
        ("[[:alpha:]]+", "abC", True),
        ("[[:^digit:]]+", "ab", True),
        (r"\Qa.b\E", "a.b", True),
        (r"\Qa.b\E", "axb", False),
        ("a{,3}", "a{,3}", True),  # not a repeat in Go
        ("a{2,3}", "aaa", True),
        ("a{2,3}", "aaaa", False),
        (r"\x{41}\x42", "AB", True),
        (r"\101", "A", True),  # octal
        ("a$\n", "a\n", False),  # $ is the end of the text, not before a final \n
        (".", "\n", False),
        ("(?s).", "\n", True),
        ("(?m)^a$\n^b$", "a\nb", True),
        ("(?U)(a+)(a*)", "aa", True),
        ("(?i)[^a]", "A", False),
        ("[]a]+", "]a", True),
        ("(?P<name>x)|y", "y", True),
        ("(?P<n>a)(?P<n>b)", "ab", True),  # Go allows a name twice
        ("", "", True),
        ("(a+)+b", "a" * 30, False),
    ],
)
def test_regexes_are_go_re2(regex: str, value: str, expected: bool) -> None:
    assert Matcher("x", MatchOp.REGEX, regex).matches({"x": value}) is expected


@pytest.mark.parametrize(
    ("regex", "fragment"),
    [
        ("(?=x)", "lookahead is not supported"),
        ("(?<!x)y", "lookbehind is not supported"),
        (r"(x)\1", "backreferences are not supported"),
        ("(?P<n>x)(?P=n)", "backreferences are not supported"),
        ("x*+", "bad repetition operator at '*+'"),
        ("x**", "bad repetition operator"),
        ("(?>x)", "atomic groups"),
        ("(?x)a b", "extended"),
        (r"x\Z", "invalid escape sequence at '\\Z'"),
        (r"\p{Foo}", "invalid character class range"),
        ("[b-a]", "invalid character class range at 'b-a'"),
        ("x{1001}", "invalid repetition size at '{1001}'"),
        ("(x{2}){501}", "invalid repetition size"),  # nested repeats multiply, as in Go
        ("(x", "missing ) at '(x'"),
        ("x)", "unexpected ) at 'x)'"),
        (r"\Qab", "does not fit Alertmanager's anchoring ^(?:…)$: missing )"),  # Go's too
        ("[x", "missing ]"),
        ("*", "no argument for repetition operator"),
        (r"a\Cb", "\\C (any byte) is not supported by Go"),
        ("(?<n>a)", "write (?P<name>"),
        ("(?P<é>a)", "invalid group name"),
        ("(" * 1001 + ")" * 1001, "nested more than 1000 deep"),
        ("\ud800", "not valid UTF-8"),
    ],
)
def test_what_go_refuses_is_an_error_that_says_why(regex: str, fragment: str) -> None:
    with pytest.raises(MatcherError) as caught:
        Matcher("x", MatchOp.REGEX, regex)
    assert fragment in str(caught.value)


def test_deep_nesting_within_go_limits_compiles_without_recursion() -> None:
    regex = "(" * 900 + "a" + ")" * 900  # the old translator recursed and crashed here
    assert Matcher("x", MatchOp.REGEX, regex).matches({"x": "a"})


def test_the_engine_is_re2_and_backtracking_patterns_complete() -> None:
    """Issue 12, cause 7: these took 76 s and doubling time per character with `re`."""
    assert ENGINE == "RE2"
    assert type(compile_anchored("a")._compiled).__module__ == "re2"
    cases = [
        ('service=~"(a+)+b"', {"service": "a" * 30}, False),
        ('service=~"(a+)+b"', {"service": "a" * 30 + "b"}, True),
        ('instance=~"([a-z0-9]+[-.]?)+:9100"', {"instance": "a" * 40 + "!"}, False),
        ('instance=~"([a-z0-9]+[-.]?)+:9100"', {"instance": "node-1.example.com:9100"}, True),
    ]
    results: list[bool] = []
    # A worker thread with a generous bound only keeps a regression from hanging the suite:
    # the assertion is on the answers, not on the time taken.
    worker = threading.Thread(
        target=lambda: results.extend(parse_matcher(t).matches(lb) for t, lb, _ in cases),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=120)
    assert results == [expected for _, _, expected in cases]


def test_re2_writes_nothing_to_stderr() -> None:
    """RE2 logs a refused pattern to stderr unless told not to; the check runs apart."""
    script = (
        "from pager.labels import Matcher, MatcherError\n"
        "for bad in ['(x', 'x{1001}', '[b-a]', '\\\\p{Foo}']:\n"
        "    try: Matcher('x', '=~', bad)\n"
        "    except MatcherError: pass\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")


def test_matcher_built_directly_compiles_and_checks_its_regex() -> None:
    assert Matcher("a", "=~", "x|y").matches({"a": "y"})  # type: ignore[arg-type]
    with pytest.raises(MatcherError, match="lookahead"):
        Matcher("a", MatchOp.REGEX, "(?=x)")


def test_matches_all_needs_every_matcher() -> None:
    matchers = [parse_matcher('team=~"db|storage"'), parse_matcher('severity="warning"')]
    assert matches_all(matchers, {"team": "db", "severity": "warning"})
    assert not matches_all(matchers, {"team": "db", "severity": "critical"})
    assert matches_all([], {})


def test_a_label_value_that_is_not_unicode_text_is_matched_not_raised() -> None:
    assert not parse_matcher('x=~"a"').matches({"x": "\ud800"})
    assert parse_matcher('x=~".+"').matches({"x": "\ud800"})


# --- property: agreement with a separately written model of Alertmanager -----------

_NAMES = st.sampled_from(["job", "team", "severity", "env"])
_VALUES = st.text(alphabet="abc-_.x1", max_size=4)
_LITERAL = st.text(alphabet="abc-1", min_size=1, max_size=3).map(re.escape)
_ATOM = st.one_of(
    _LITERAL,
    st.just(".*"),
    st.just("."),
    st.sampled_from(["[a-c]", "[^ab]", "[-x]", "[0-9]"]),
    _LITERAL.map(lambda lit: f"(?:{lit})?"),
    _LITERAL.map(lambda lit: f"(?:{lit})+"),
)
_REGEX = st.lists(st.lists(_ATOM, min_size=0, max_size=3).map("".join), min_size=1, max_size=3)


def _reference(name: str, op: str, value: str, labels: dict[str, str]) -> bool:
    """Alertmanager: compare ``labels[name]`` or "" ; regexes match the whole value."""
    actual = labels.get(name, "")
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    full = re.fullmatch(value, actual) is not None  # the same as RE2 on these simple regexes
    return full if op == "=~" else not full


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@settings(max_examples=300, deadline=None)
@given(
    name=_NAMES,
    op=st.sampled_from(["=", "!="]),
    value=st.text(alphabet='ab"\\\n,x', max_size=5),
    labels=st.dictionaries(_NAMES, st.text(alphabet='ab"\\\n,x', max_size=5), max_size=3),
)
def test_equality_agrees_with_reference(
    name: str, op: str, value: str, labels: dict[str, str]
) -> None:
    matcher = parse_matcher(f"{name}{op}{_quote(value)}")
    assert matcher.value == value  # quoting round-trips, escapes included
    assert matcher.matches(labels) == _reference(name, op, value, labels)
    assert parse_matcher(str(matcher)) == matcher


@settings(max_examples=300, deadline=None)
@given(
    name=_NAMES,
    op=st.sampled_from(["=~", "!~"]),
    alternatives=_REGEX,
    labels=st.dictionaries(_NAMES, _VALUES, max_size=3),
)
def test_regex_agrees_with_reference(
    name: str, op: str, alternatives: list[str], labels: dict[str, str]
) -> None:
    regex = "|".join(alternatives)
    matcher = parse_matcher(f"{name}{op}{_quote(regex)}")
    assert matcher.matches(labels) == _reference(name, op, regex, labels)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=30))
def test_any_regex_compiles_or_is_a_matcher_error(regex: str) -> None:
    try:
        matcher = Matcher("x", MatchOp.REGEX, regex)
    except MatcherError:
        return
    assert isinstance(matcher.matches({"x": regex}), bool)
