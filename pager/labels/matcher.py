"""One label matcher, and how a set of them matches a label set, as in Alertmanager.

Guarantees (Alertmanager's ``matcher.Matcher`` and ``Matchers.Matches``):
* A label that is absent counts as the empty string: ``foo=""`` matches an
  alert without ``foo``, ``foo!=""`` requires it, ``foo=~".*"`` matches it absent.
* ``=~`` and ``!~`` run the value as an RE2 regex anchored ``^(?:value)$``
  (:mod:`pager.labels.regex`): linear time, Go's syntax.
* A set of matchers matches when every one does (an empty set matches all).
* ``str(matcher)`` is Alertmanager's ``String()``: ``name="value"`` with the
  value OpenMetrics-escaped, or both parts Go-quoted when the name holds a
  character the UTF-8 parser reserves (or is empty). It parses back to the
  same matcher.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from pager.labels.golang import is_space, quote
from pager.labels.regex import Regex, RegexError, compile_anchored

RESERVED = frozenset("{}!=~,\\\"'`")  # with Go's spaces: what an unquoted token cannot hold


class MatcherError(ValueError):
    """A matcher or its regex is invalid; the message is meant for people."""


class AmbiguousMatcherError(MatcherError):
    """Alertmanager's two parsers read the text differently: pager will not guess."""


class MatchOp(StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True)
class Matcher:
    """One label matcher. Building one with a regex operator compiles it (or raises)."""

    name: str
    op: MatchOp
    value: str
    _regex: Regex | None = field(init=False, default=None, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        op = MatchOp(self.op)  # also accepts the plain string "=~"
        object.__setattr__(self, "op", op)
        if op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                object.__setattr__(self, "_regex", compile_anchored(self.value))
            except RegexError as err:
                raise MatcherError(f"invalid regex {shown(self.value)}: {err}") from None

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self._regex is None:
            return (actual == self.value) == (self.op is MatchOp.EQUAL)
        return self._regex.matches(actual) == (self.op is MatchOp.REGEX)

    def __str__(self) -> str:
        if not self.name or any(char in RESERVED or is_space(char) for char in self.name):
            return f"{quote(self.name)}{self.op}{quote(self.value)}"
        return f'{self.name}{self.op}"{openmetrics_escape(self.value)}"'


def shown(text: str) -> str:
    """Text in quotes as its author wrote it (backslashes not doubled), for messages."""
    return f"'{text}'" if text.isprintable() else repr(text)


def openmetrics_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
