"""Matcher parsing, table-driven from Alertmanager's own tests.

The UTF-8 parser's cases come from Alertmanager's matcher/parse/parse_test.go,
the classic parser's from pkg/labels/parse_test.go, and the default reading's
from matcher/compat/parse_test.go; where Alertmanager silently picks one of
two readings pager refuses instead (an AmbiguousMatcherError).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pager.labels import (
    AmbiguousMatcherError,
    Matcher,
    MatcherError,
    MatchOp,
    parse_matcher,
    parse_matchers,
)
from pager.labels.classic import parse_classic
from pager.labels.utf8 import parse_utf8

EQ, NE, RE, NRE = MatchOp.EQUAL, MatchOp.NOT_EQUAL, MatchOp.REGEX, MatchOp.NOT_REGEX


def m(name: str, op: MatchOp, value: str) -> Matcher:
    return Matcher(name, op, value)


UTF8_ACCEPTS = [
    ("", []),
    ("{}", []),
    ("{foo=bar}", [m("foo", EQ, "bar")]),
    ("{foo=bar,}", [m("foo", EQ, "bar")]),
    ("{foo!=bar}", [m("foo", NE, "bar")]),
    ("{foo=~[a-z]+}", [m("foo", RE, "[a-z]+")]),
    ("{foo!~[a-z]+}", [m("foo", NRE, "[a-z]+")]),
    ("{foo=🙂}", [m("foo", EQ, "🙂")]),
    ("{foo=🙂bar}", [m("foo", EQ, "🙂bar")]),
    ("foo=bar", [m("foo", EQ, "bar")]),
    ("foo=bar,", [m("foo", EQ, "bar")]),
    ("foo=~[a-z]+", [m("foo", RE, "[a-z]+")]),
    ('{"foo"="bar"}', [m("foo", EQ, "bar")]),
    ('{"foo"="bar",}', [m("foo", EQ, "bar")]),
    ('{"foo"=~"[a-z]+"}', [m("foo", RE, "[a-z]+")]),
    ('{"foo"="🙂"}', [m("foo", EQ, "🙂")]),
    ('{"foo"="\\xf0\\x9f\\x99\\x82"}', [m("foo", EQ, "🙂")]),  # UTF-8 bytes as \x escapes
    ('{"foo"="\\U0001f642"}', [m("foo", EQ, "🙂")]),
    ('{"foo"="bar\\n"}', [m("foo", EQ, "bar\n")]),
    ('{"foo"="bar\\t"}', [m("foo", EQ, "bar\t")]),
    ('{"foo"="\\"bar\\""}', [m("foo", EQ, '"bar"')]),
    ('{"foo"="bar\\\\"}', [m("foo", EQ, "bar\\")]),
    ('"foo"="bar"', [m("foo", EQ, "bar")]),
    ("{foo=bar,bar!=baz}", [m("foo", EQ, "bar"), m("bar", NE, "baz")]),
    ('foo="bar",bar!="baz"', [m("foo", EQ, "bar"), m("bar", NE, "baz")]),
    # what pager's policies rely on besides
    ('{"service.name"="api"}', [m("service.name", EQ, "api")]),
    ('"foo🙂"=bar', [m("foo🙂", EQ, "bar")]),
    ("service.name=api", [m("service.name", EQ, "api")]),
    ('app-name="web"', [m("app-name", EQ, "web")]),
    ("1abc=x", [m("1abc", EQ, "x")]),
    ('{ a = "1" ,\tb =~ "x|y" , }', [m("a", EQ, "1"), m("b", RE, "x|y")]),
    ('a="1\u00a0"', [m("a", EQ, "1\u00a0")]),  # Go's spaces are skipped outside quotes only
    ('a="\\101\\u00e9"', [m("a", EQ, "Aé")]),  # octal and \u escapes
    ('a="x\ty"', [m("a", EQ, "x\ty")]),  # a raw tab inside quotes is fine in Go
    ('""=x', [m("", EQ, "x")]),
]

UTF8_REFUSES = [
    (",", "expected a label name, found ','"),
    ("{,}", "column 2: expected a label name"),
    ("{", "expected a closing brace, found the end of the input"),
    ("}", "'}' without an opening brace"),
    ("foo=bar}", "column 8: '}' without an opening brace"),
    ("{foo=bar", "expected a closing brace"),
    ('{foo=:"bar"}', "expected a comma or a closing brace"),
    ('{foo="bar\\w"}', "unknown escape \\w"),
    ("{foo=bar\\n}", "column 9: '\\\\' is not allowed here"),
    ('{"foo"="\\xf0\\x9f"}', "invalid UTF-8"),
    ("foo=", "expected a value"),
    ("foo", "expected an operator"),
    ("foo=bar,,", "expected a matcher or a closing brace after the comma"),
    ("foo=bar baz", "expected a comma or a closing brace, found 'baz'"),
    ("foo==bar", "expected a value"),
    ("foo!bar", "'!' must be followed by '=' or '~'"),
    ('foo="bar', "the double quote is never closed"),
    ('foo="a\nb"', "line feed"),
    ("{{foo=bar}", "expected a label name, found '{'"),
    ("{foo=bar}}", "expected the end of the input"),
    ("foo=~'x'", '"\'" is not allowed here'),
    ('a="\\\'"', "unknown escape"),  # \' is not an escape inside double quotes in Go
]


@pytest.mark.parametrize(("text", "expected"), UTF8_ACCEPTS)
def test_the_utf8_parser_accepts(text: str, expected: list[Matcher]) -> None:
    assert parse_utf8(text) == expected


@pytest.mark.parametrize(("text", "fragment"), UTF8_REFUSES)
def test_the_utf8_parser_refuses(text: str, fragment: str) -> None:
    with pytest.raises(MatcherError) as caught:
        parse_utf8(text)
    assert fragment in str(caught.value)


CLASSIC_ACCEPTS = [
    ('{foo="bar"}', [m("foo", EQ, "bar")]),
    ('{foo=~"bar.*"}', [m("foo", RE, "bar.*")]),
    ('{foo="bar", baz!~"quux.*"}', [m("foo", EQ, "bar"), m("baz", NRE, "quux.*")]),
    ('{foo="bar,quux", job="job1"}', [m("foo", EQ, "bar,quux"), m("job", EQ, "job1")]),
    ('{foo = "bar", dings != "bums", }', [m("foo", EQ, "bar"), m("dings", NE, "bums")]),
    ("foo=bar,dings!=bums", [m("foo", EQ, "bar"), m("dings", NE, "bums")]),
    (
        '{quote="She said: \\"Hi, ladies! That\'s gender-neutral…\\""}',
        [m("quote", EQ, 'She said: "Hi, ladies! That\'s gender-neutral…"')],
    ),
    ('statuscode=~"5.."', [m("statuscode", RE, "5..")]),
    ("tricky=~~~", [m("tricky", RE, "~~")]),
    ('trickier==\\\\=\\=\\"', [m("trickier", EQ, '=\\=\\="')]),
    (
        'contains_quote != "\\"" , contains_comma !~ "foo,bar" , ',
        [m("contains_quote", NE, '"'), m("contains_comma", NRE, "foo,bar")],
    ),
    ("foo=", [m("foo", EQ, "")]),
    ('odd="a\\qb"', [m("odd", EQ, "a\\qb")]),  # a spurious escape stays literal
    ('x="a\\tb"', [m("x", EQ, "a\\tb")]),
    ("foo=!bar\\n", [m("foo", EQ, "!bar\n")]),
    ("{foo=bar}}", [m("foo", EQ, "bar}")]),
    ("a:b_c=x y", [m("a:b_c", EQ, "x y")]),
]

CLASSIC_REFUSES = [
    'job="value',
    'job=value"',
    'trickier==\\\\=\\=\\""',
    'contains_unescaped_quote = foo"bar',
    '{invalid-name = "valid label"}',
    '{foo=~"invalid[regexp"}',
    '"{foo=\\"bar"}',
    '"foo=\\"bar"',
    '"foo="bar""',
    "a=1,,b=2",
    "foo🙂=bar",
    "1abc=x",
]


@pytest.mark.parametrize(("text", "expected"), CLASSIC_ACCEPTS)
def test_the_classic_parser_accepts(text: str, expected: list[Matcher]) -> None:
    assert parse_classic(text) == expected


@pytest.mark.parametrize("text", CLASSIC_REFUSES)
def test_the_classic_parser_refuses(text: str) -> None:
    with pytest.raises(MatcherError):
        parse_classic(text)


@pytest.mark.parametrize(
    ("text", "expected", "warned"),
    [
        ("foo=bar", [m("foo", EQ, "bar")], False),
        ("foo🙂=bar", [m("foo🙂", EQ, "bar")], False),  # UTF-8 only
        ("{foo🙂=bar,bar=baz🙂}", [m("foo🙂", EQ, "bar"), m("bar", EQ, "baz🙂")], False),
        ("foo=!bar\\n", [m("foo", EQ, "!bar\n")], True),  # classic only: the fallback
        ("{foo=!bar,bar=$baz\\n}", [m("foo", EQ, "!bar"), m("bar", EQ, "$baz\n")], True),
        ("a=1,b=2", [m("a", EQ, "1"), m("b", EQ, "2")], False),  # two matchers, never a="1,b=2"
        ('job=~"x\\.y"', [m("job", RE, "x\\.y")], True),
        ("foo=", [m("foo", EQ, "")], True),
    ],
)
def test_the_default_reading(text: str, expected: list[Matcher], warned: bool) -> None:
    parsed = parse_matchers(text)
    assert list(parsed.matchers) == expected
    assert (parsed.warning is not None) is warned
    if parsed.warning is not None:  # it gives a spelling both parsers read the same
        suggestion = parsed.warning.rsplit(" write ", 1)[1].removesuffix(
            " so it stays valid in UTF-8 strict mode"
        )
        assert parse_utf8(suggestion) == parse_classic(suggestion) == expected


@pytest.mark.parametrize(
    "text",
    [
        'foo="\\xf0\\x9f\\x99\\x82"',  # 🙂 to the UTF-8 parser, the escapes to the classic one
        'foo="\\x41"',
        'foo="a\\tb"',
        "foo=bar\u00a0,x=y",  # the classic parser keeps the no-break space of a non-last item
    ],
)
def test_two_readings_are_an_error_not_a_guess(text: str) -> None:
    with pytest.raises(AmbiguousMatcherError, match=r"UTF-8 parser reads .* its classic parser"):
        parse_matchers(text)


def test_neither_parser_accepting_gives_the_utf8_reason() -> None:
    with pytest.raises(MatcherError, match=r"invalid matcher 'foo!bar': column 4: '!' must"):
        parse_matchers("foo!bar")


def test_one_matcher_where_one_is_wanted() -> None:
    assert parse_matcher('severity="critical"') == m("severity", EQ, "critical")
    with pytest.raises(MatcherError, match="expected one matcher, found 2"):
        parse_matcher("a=1,b=2")
    with pytest.raises(MatcherError, match="found 0"):
        parse_matcher("{}")


_NAME = st.text(min_size=1, max_size=6).filter(lambda s: "\x00" not in s)
_VALUE = st.text(max_size=8)


@settings(max_examples=400, deadline=None)
@given(name=_NAME, op=st.sampled_from(list(MatchOp)), value=_VALUE)
def test_str_reads_back_as_the_same_matcher(name: str, op: MatchOp, value: str) -> None:
    try:
        matcher = Matcher(name, op, value)
    except MatcherError:
        return  # a value that is no regex
    assert parse_matchers(str(matcher)).matchers == (matcher,)


def _read(text: str) -> tuple[Matcher, ...] | str:
    """The matchers, or the error's message: never another exception."""
    try:
        return parse_matchers(text).matchers
    except MatcherError as err:
        return str(err)


@settings(max_examples=600, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_matchers_or_a_matcher_error(text: str) -> None:
    result = _read(text)
    assert result if isinstance(result, str) else all(isinstance(x, Matcher) for x in result)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='ab=!~",\\{} \t\nx.*|()🙂\u00a0', max_size=30))
def test_punctuation_soup_is_matchers_or_a_matcher_error(text: str) -> None:
    result = _read(text)
    assert result if isinstance(result, str) else all(isinstance(x, Matcher) for x in result)
