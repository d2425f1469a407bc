"""Alertmanager label matchers: ``name="value"``, ``name!="value"``, ``name=~"re"``, ``name!~"re"``.

Semantics, kept identical to Alertmanager's classic parser (``pkg/labels``):

* Syntax: a label name (``[a-zA-Z_:][a-zA-Z0-9_:]*``), an operator, a value.
  Whitespace around each part is ignored. The value may be double-quoted;
  inside it ``\\"`` is a quote, ``\\\\`` a backslash and ``\\n`` a line feed; any
  other backslash is literal. An unquoted value is taken as written
  (``severity=critical``), an empty value is the empty string (``foo=``).
  An unescaped ``"`` inside the value is an error.
* A label that is absent counts as the empty string: ``foo=""`` matches when
  ``foo`` is absent, ``foo!=""`` requires it, ``foo=~".*"`` matches it absent.
* Regexes are fully anchored, as Alertmanager compiles ``^(?:re)$``:
  ``job=~"api"`` does not match ``api-2``.
* Regexes are Go RE2, not Python ``re``. RE2 syntax is translated (``\\z``,
  ``\\Q..\\E``, ``\\x{41}``, ``[[:alpha:]]``, ``(?i)`` anywhere, ``(?U)``);
  ``\\d \\w \\s \\b`` are ASCII-only and ``$`` is the end of the text as in RE2.
  What RE2 lacks (backreferences, lookaround, atomic groups, possessive
  quantifiers, ``\\Z``, ``(?x)``) is rejected with a MatcherError, so a policy
  that passes ``pager check`` behaves as it would in Alertmanager. Known
  remaining difference: ``\\p{..}`` Unicode classes are rejected, not supported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from pager.core.re2 import translate


class MatcherError(ValueError):
    """A matcher or its regex is invalid; the message is meant for people."""


class MatchOp(StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


_WS = "[\t\n\f\r ]*"  # Go's \s, which has no \v
_SYNTAX = re.compile(rf"{_WS}([a-zA-Z_:][a-zA-Z0-9_:]*){_WS}(=~|=|!=|!~){_WS}(.*?){_WS}", re.DOTALL)
_OPERATOR = re.compile(r"=~|!~|!=|=")


@dataclass(frozen=True)
class Matcher:
    """One label matcher. Building one with a regex operator compiles it once."""

    name: str
    op: MatchOp
    value: str
    _regex: re.Pattern[str] | None = field(
        init=False, default=None, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        op = MatchOp(self.op)  # also accepts the plain string "=~"
        object.__setattr__(self, "op", op)
        if op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            object.__setattr__(self, "_regex", compile_regex(self.value))

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self._regex is None:
            return (actual == self.value) == (self.op is MatchOp.EQUAL)
        return (self._regex.fullmatch(actual) is not None) == (self.op is MatchOp.REGEX)

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


def compile_regex(pattern: str) -> re.Pattern[str]:
    """Compile an RE2 pattern for full matching, or raise MatcherError."""
    try:
        return re.compile(translate(pattern))
    except (ValueError, re.error) as err:
        raise MatcherError(f"invalid regex {pattern!r}: {err}") from None


def parse_matcher(text: str) -> Matcher:
    """Parse one matcher such as ``team=~"db|storage"``."""
    found = _SYNTAX.fullmatch(text)
    if found is None:
        raise MatcherError(f"invalid matcher {text!r}: {_diagnose(text)}")
    name, op, raw = found.groups()
    try:
        return Matcher(name, MatchOp(op), _unquote(raw))
    except MatcherError as err:
        raise MatcherError(f"invalid matcher {text!r}: {err}") from None


def parse_matchers(text: str) -> list[Matcher]:
    """Parse ``{a="1", b=~"x|y"}``: braces optional, commas inside quotes kept."""
    text = text.removeprefix("{").removesuffix("}")
    tokens = _split_commas(text)
    if not tokens[-1].strip():
        tokens.pop()  # a trailing comma is allowed, as in Alertmanager
    return [parse_matcher(token) for token in tokens]


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def _diagnose(text: str) -> str:
    operator = _OPERATOR.search(text)
    if operator is None:
        return 'expected name="value" with one of the operators =, !=, =~, !~'
    name = text[: operator.start()].strip()
    return f"label name {name!r} is invalid: use letters, digits, '_' and ':', not first a digit"


def _unquote(raw: str) -> str:
    """Undo OpenMetrics escaping the way Alertmanager's ParseMatcher does."""
    quoted = raw.startswith('"')
    body = raw[1:] if quoted else raw
    out: list[str] = []
    i, closed = 0, False
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append("\n" if nxt == "n" else nxt if nxt in '"\\' else "\\" + nxt)
            i += 2
            continue
        if char == '"':
            if not quoted or i != len(body) - 1:
                raise MatcherError('unescaped double quote in the value (write \\" inside quotes)')
            closed = True
        else:
            out.append(char)
        i += 1
    if quoted and not closed:
        raise MatcherError("the value opens a double quote but does not close it")
    return "".join(out)


def _split_commas(text: str) -> list[str]:
    tokens: list[str] = []
    current: list[str] = []
    inside = escaped = False
    for char in text:
        if char == "," and not inside:
            tokens.append("".join(current))
            current = []
            continue
        if char == '"' and not escaped:
            inside = not inside
        escaped = char == "\\" and not escaped
        current.append(char)
    tokens.append("".join(current))
    return tokens
