"""Alertmanager matcher semantics: operators, quoting, anchoring, absent labels, RE2."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pager.core.matchers import (
    Matcher,
    MatcherError,
    MatchOp,
    matches_all,
    parse_matcher,
    parse_matchers,
)


@pytest.mark.parametrize(
    ("text", "name", "op", "value"),
    [
        ('severity="critical"', "severity", MatchOp.EQUAL, "critical"),
        ('severity!="info"', "severity", MatchOp.NOT_EQUAL, "info"),
        ('team=~"db|storage"', "team", MatchOp.REGEX, "db|storage"),
        ('env!~"dev.*"', "env", MatchOp.NOT_REGEX, "dev.*"),
        ("severity=critical", "severity", MatchOp.EQUAL, "critical"),  # unquoted
        ('  job  =  "api"  ', "job", MatchOp.EQUAL, "api"),  # whitespace around tokens
        ("foo=", "foo", MatchOp.EQUAL, ""),
        ('foo=""', "foo", MatchOp.EQUAL, ""),
        (r'msg="say \"hi\""', "msg", MatchOp.EQUAL, 'say "hi"'),
        (r'path="C:\\temp"', "path", MatchOp.EQUAL, "C:\\temp"),
        (r'text="a\nb"', "text", MatchOp.EQUAL, "a\nb"),
        (r'odd="a\qb"', "odd", MatchOp.EQUAL, "a\\qb"),  # a spurious escape stays literal
        ('url="http://x/?a=b,c"', "url", MatchOp.EQUAL, "http://x/?a=b,c"),
        ("a:b_c=x y", "a:b_c", MatchOp.EQUAL, "x y"),
    ],
)
def test_parse(text: str, name: str, op: MatchOp, value: str) -> None:
    assert parse_matcher(text) == Matcher(name, op, value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("severity", "one of the operators"),
        ("severity: critical", "one of the operators"),
        ('app-name="web"', "label name 'app-name' is invalid"),
        ('1abc="x"', "label name '1abc' is invalid"),
        ('a="unterminated', "does not close"),
        ('a="x"y"', "unescaped double quote"),
        ('a=x"', "unescaped double quote"),
        ('a=="x"', "unescaped double quote"),
        ('a=~"(?=x)"', "lookahead"),
        ('a=~"(?<!x)y"', "lookbehind"),
        (r'a=~"(x)\\1"', "backreferences"),
        ('a=~"(?P<n>x)(?P=n)"', "backreferences"),
        ('a=~"x*+"', "nested repetition"),
        ('a=~"(?>x)"', "atomic"),
        ('a=~"(?x)a b"', "unsupported group syntax"),
        (r'a=~"x\\Z"', "\\z is the end of the text"),
        (r'a=~"\\p{L}"', "Unicode classes"),
        ('a=~"[b-a]"', "invalid character class range"),
        ('a=~"x{1001}"', "invalid repeat count"),
        ('a=~"(x"', "missing closing )"),
        ('a=~"[x"', "missing closing ]"),
        ('a=~"*"', "missing argument"),
    ],
)
def test_parse_errors_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(MatcherError) as caught:
        parse_matcher(text)
    assert fragment in str(caught.value)
    assert repr(text) in str(caught.value)  # names the matcher


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
        # absent labels count as ""
        ('foo=""', {}, True),
        ('foo=""', {"foo": "x"}, False),
        ('foo!=""', {}, False),
        ('foo!=""', {"foo": "x"}, True),
        ('foo=~".*"', {}, True),
        ('foo=~".+"', {}, False),
        ('foo!~".+"', {}, True),
        ('foo="bar"', {}, False),
        ('foo!="bar"', {}, True),
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
        (r"\d+", "123", True),
        (r"\d", "\u0663", False),  # RE2's \d is ASCII only
        (r"\w+", "été", False),
        ("[[:alpha:]]+", "abC", True),
        ("[[:^digit:]]+", "ab", True),
        (r"\Qa.b\E", "a.b", True),
        (r"\Qa.b\E", "axb", False),
        ("a{,3}", "a{,3}", True),  # not a repeat in RE2
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
        (r"\bfoo\b", "foo", True),
    ],
)
def test_re2_semantics(regex: str, value: str, expected: bool) -> None:
    assert Matcher("x", MatchOp.REGEX, regex).matches({"x": value}) is expected


def test_matcher_built_directly_compiles_and_checks_its_regex() -> None:
    assert Matcher("a", "=~", "x|y").matches({"a": "y"})  # type: ignore[arg-type]
    with pytest.raises(MatcherError, match="lookahead"):
        Matcher("a", MatchOp.REGEX, "(?=x)")


def test_matches_all_needs_every_matcher() -> None:
    matchers = [parse_matcher('team=~"db|storage"'), parse_matcher('severity="warning"')]
    assert matches_all(matchers, {"team": "db", "severity": "warning"})
    assert not matches_all(matchers, {"team": "db", "severity": "critical"})
    assert matches_all([], {})


def test_parse_matchers_list() -> None:
    parsed = parse_matchers('{foo = "bar", quote="a, \\"b\\"", dings!=bums, }')
    assert parsed == [
        Matcher("foo", MatchOp.EQUAL, "bar"),
        Matcher("quote", MatchOp.EQUAL, 'a, "b"'),
        Matcher("dings", MatchOp.NOT_EQUAL, "bums"),
    ]


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
