"""Matcher text as Alertmanager 0.27 and later read it by default, minus the guessing.

Alertmanager's default ("fallback") mode reads every text with both of its
parsers (:mod:`pager.labels.utf8`, :mod:`pager.labels.classic`):
* the UTF-8 parser accepts it: its reading is used; pager does the same;
* only the classic parser accepts it (e.g. ``foo=``, ``job=~"x\\.y"``): the
  classic reading is used and Alertmanager logs a warning; pager does the
  same and returns the warning, with the spelling both parsers agree on;
* both accept it but read it differently (e.g. ``foo="\\x41"`` is ``A`` to one
  and ``\\x41`` to the other): Alertmanager silently uses the classic reading,
  and in UTF-8 strict mode the other. pager refuses to guess: it is an
  AmbiguousMatcherError that names both readings;
* neither accepts it: a MatcherError with the UTF-8 parser's reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from pager.labels.classic import parse_classic
from pager.labels.matcher import AmbiguousMatcherError, Matcher, MatcherError, shown
from pager.labels.utf8 import parse_utf8


@dataclass(frozen=True)
class Parsed:
    matchers: tuple[Matcher, ...]
    warning: str | None = None  # set: valid only through Alertmanager's classic fallback


def parse_matchers(text: str) -> Parsed:
    """All the matchers of one text (``{a="1",b="2"}``, ``a=1,b=2`` or one matcher)."""
    try:
        modern: list[Matcher] | None = parse_utf8(text)
        reason = ""
    except MatcherError as err:
        modern, reason = None, str(err)
    try:
        classic: list[Matcher] | None = parse_classic(text)
    except MatcherError:
        classic = None
    if modern is None and classic is None:
        raise MatcherError(f"invalid matcher {shown(text)}: {reason}")
    if modern is None:
        assert classic is not None
        return Parsed(tuple(classic), _fallback_warning(text, classic, reason))
    if classic is not None and classic != modern:
        raise AmbiguousMatcherError(_ambiguity(text, modern, classic))
    return Parsed(tuple(modern))


def parse_matcher(text: str) -> Matcher:
    """Exactly one matcher (a maintenance window's item, an API field)."""
    found = parse_matchers(text).matchers
    if len(found) != 1:
        raise MatcherError(
            f"invalid matcher {shown(text)}: expected one matcher, found {len(found)}"
            + (" (give each as its own item)" if found else "")
        )
    return found[0]


def parse_stored(text: str) -> tuple[Matcher, ...]:
    """Text pager accepted before its parsers were Alertmanager's (a stored maintenance
    window): read as Alertmanager reads it, the classic reading where the two differ."""
    try:
        return parse_matchers(text).matchers
    except AmbiguousMatcherError:
        return tuple(parse_classic(text))


def spell(matchers: tuple[Matcher, ...] | list[Matcher]) -> str:
    return ", ".join(str(m) for m in matchers)


def _fallback_warning(text: str, classic: list[Matcher], reason: str) -> str:
    return (
        f"{shown(text)} is read by Alertmanager's classic parser only ({reason}); "
        f"write {spell(classic)} so it stays valid in UTF-8 strict mode"
    )


def _ambiguity(text: str, modern: list[Matcher], classic: list[Matcher]) -> str:
    return (
        f"ambiguous matcher {shown(text)}: Alertmanager's UTF-8 parser reads {spell(modern)}, "
        f"its classic parser {spell(classic)}; write the one you mean"
    )
