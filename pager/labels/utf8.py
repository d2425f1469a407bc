"""Alertmanager's UTF-8 matchers parser (``matcher/parse``, the default since 0.27).

Grammar, as that parser reads it: an optional ``{``, matchers separated by
commas (one trailing comma allowed), the ``}`` if and only if the input opened
with ``{``. A matcher is a name, an operator (``=`` ``!=`` ``=~`` ``!~``) and a
value. Name and value are each either double-quoted, with every Go escape
(:func:`pager.labels.golang.unquote`), or unquoted: any run of characters that
are neither Go spaces nor one of ``{}!=~,\\"'``` ``. Spaces between tokens are
ignored. So ``{"service.name"="api"}``, ``app-name=web``, ``foo🙂=bar`` and
``a=1,b=2`` (two matchers) are all matchers here; ``foo=`` (no value) and
``foo=bar baz`` are not. Errors name the 1-based column where reading stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from pager.labels.golang import GoSyntaxError, is_space, unquote
from pager.labels.matcher import RESERVED, Matcher, MatcherError, MatchOp


class Kind(Enum):
    EOF = auto()
    OPEN = auto()
    CLOSE = auto()
    COMMA = auto()
    OPERATOR = auto()
    QUOTED = auto()
    UNQUOTED = auto()


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    column: int  # 1-based column of its first character

    def describe(self) -> str:
        return "the end of the input" if self.kind is Kind.EOF else repr(self.text)


_PUNCTUATION = {"{": Kind.OPEN, "}": Kind.CLOSE, ",": Kind.COMMA}
_NAME_OR_VALUE = (Kind.QUOTED, Kind.UNQUOTED)


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def peek(self) -> Token:
        saved = self.pos
        try:
            return self.scan()
        finally:
            self.pos = saved

    def scan(self) -> Token:
        text = self.text
        while self.pos < len(text) and is_space(text[self.pos]):
            self.pos += 1
        start = self.pos
        if start >= len(text):
            return Token(Kind.EOF, "", start + 1)
        char = text[start]
        if char in _PUNCTUATION:
            self.pos += 1
            return Token(_PUNCTUATION[char], char, start + 1)
        if char in "=!":
            return self._operator(start)
        if char == '"':
            return self._quoted(start)
        if char in RESERVED:
            raise MatcherError(f"column {start + 1}: {char!r} is not allowed here (quote the text)")
        while self.pos < len(text) and not (text[self.pos] in RESERVED or is_space(text[self.pos])):
            self.pos += 1
        return Token(Kind.UNQUOTED, text[start : self.pos], start + 1)

    def _operator(self, start: int) -> Token:
        two = self.text[start : start + 2]
        if two in ("!=", "!~", "=~"):
            self.pos += 2
            return Token(Kind.OPERATOR, two, start + 1)
        if two[:1] == "!":
            raise MatcherError(f"column {start + 1}: '!' must be followed by '=' or '~'")
        self.pos += 1
        return Token(Kind.OPERATOR, "=", start + 1)

    def _quoted(self, start: int) -> Token:
        i, escaped = start + 1, False
        while i < len(self.text):
            char = self.text[i]
            if not escaped and char == '"':
                self.pos = i + 1
                return Token(Kind.QUOTED, self.text[start : i + 1], start + 1)
            escaped = not escaped and char == "\\"
            i += 1
        raise MatcherError(f"column {start + 1}: the double quote is never closed")


def parse_utf8(text: str) -> list[Matcher]:
    """The matchers of ``text`` as the UTF-8 parser reads them; raise MatcherError if invalid."""
    lexer = _Lexer(text)
    first = lexer.peek()
    opened = first.kind is Kind.OPEN
    if opened:
        lexer.scan()
    matchers: list[Matcher] = []
    token = lexer.peek()
    while token.kind in _NAME_OR_VALUE:
        matchers.append(_matcher(lexer))
        token = lexer.peek()
        if token.kind not in (Kind.COMMA, Kind.CLOSE, Kind.EOF):
            raise _unexpected(token, "a comma or a closing brace")
        if token.kind is Kind.COMMA:
            lexer.scan()
            token = lexer.peek()
            if token.kind not in (Kind.CLOSE, Kind.EOF, *_NAME_OR_VALUE):
                raise _unexpected(token, "a matcher or a closing brace after the comma")
    if token.kind not in (Kind.CLOSE, Kind.EOF):
        raise _unexpected(token, "a label name")
    _close(lexer, opened)
    return matchers


def _matcher(lexer: _Lexer) -> Matcher:
    name = _unquoted(lexer.scan())
    operator = lexer.scan()
    if operator.kind is not Kind.OPERATOR:
        raise _unexpected(operator, "an operator: =, !=, =~ or !~")
    value = lexer.scan()
    if value.kind not in _NAME_OR_VALUE:
        raise _unexpected(value, 'a value (write "" for the empty one)')
    return Matcher(name, MatchOp(operator.text), _unquoted(value))


def _unquoted(token: Token) -> str:
    if token.kind is Kind.UNQUOTED:
        return token.text
    try:
        return unquote(token.text)
    except GoSyntaxError as err:
        raise MatcherError(f"column {token.column}: {token.text}: {err}") from None


def _close(lexer: _Lexer, opened: bool) -> None:
    token = lexer.scan()
    if opened and token.kind is not Kind.CLOSE:
        raise _unexpected(token, "a closing brace")
    if not opened and token.kind is Kind.CLOSE:
        raise MatcherError(f"column {token.column}: '}}' without an opening brace")
    if token.kind is Kind.CLOSE:
        token = lexer.scan()
    if token.kind is not Kind.EOF:
        raise _unexpected(token, "the end of the input")


def _unexpected(token: Token, expected: str) -> MatcherError:
    return MatcherError(f"column {token.column}: expected {expected}, found {token.describe()}")
