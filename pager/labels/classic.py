"""Alertmanager's classic matchers parser (``pkg/labels``, ``matcher/oldparse``).

Alertmanager up to 0.26 read matchers only this way, and 0.27 and later fall
back to it when the UTF-8 parser refuses a text. Kept identical to Go:
* A list: one leading ``{`` and one trailing ``}`` are dropped, the rest is
  split at commas outside double quotes (a ``\\"`` does not toggle quoting),
  and a last, blank piece is dropped: ``{a="1", b=~"x|y",}``.
* A matcher: ``name op value`` with Go's ``\\s`` (``[\\t\\n\\f\\r ]``) around the
  parts; the name is ``[a-zA-Z_:][a-zA-Z0-9_:]*``; the value may be quoted,
  inside it ``\\"``, ``\\\\`` and ``\\n`` are escapes and any other backslash is
  literal; an unescaped ``"`` inside the value is an error.
"""

from __future__ import annotations

import re2

from pager.labels.golang import trim_space
from pager.labels.matcher import Matcher, MatcherError, MatchOp, shown

# Go's own pattern, run by RE2 as Go runs it (leftmost-first, linear time).
_SYNTAX = re2.compile(
    r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$",
)
_UNESCAPE = {"n": "\n", '"': '"', "\\": "\\"}


def parse_classic(text: str) -> list[Matcher]:
    """``ParseMatchers``: the matchers of ``text``; raise MatcherError if invalid."""
    return [parse_classic_one(piece) for piece in _split(text.removeprefix("{").removesuffix("}"))]


def _split(text: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    inside = escaped = False
    for char in text:
        if char == "," and not inside:
            pieces.append("".join(current))
            current = []
            continue
        if char == '"':
            inside, escaped = (not inside, False) if not escaped else (inside, False)
        elif char == "\\":
            escaped = not escaped
        elif char != ",":  # a comma inside quotes leaves `escaped` as it was
            escaped = False
        current.append(char)
    last = trim_space("".join(current))
    if last:
        pieces.append(last)
    return pieces


def parse_classic_one(text: str) -> Matcher:
    """``ParseMatcher``: one matcher such as ``team=~"db|storage"``."""
    found = _SYNTAX.search(text.encode("utf-8", "surrogatepass"))
    if found is None:
        raise MatcherError(f"{shown(text)} is not name, operator, value")
    name, op, raw = (part.decode("utf-8", "surrogatepass") for part in found.groups())
    return Matcher(name, MatchOp(op), _unescape(raw))


def _unescape(raw: str) -> str:
    quoted = raw.startswith('"')
    body = raw[1:] if quoted else raw
    if any(0xD800 <= ord(char) <= 0xDFFF for char in body):
        raise MatcherError("the value is not valid UTF-8")
    out: list[str] = []
    escaped = False
    for i, char in enumerate(body):
        last = i == len(body) - 1
        if escaped:
            escaped = False
            out.append(_UNESCAPE.get(char, "\\" + char))
        elif char == "\\" and not last:
            escaped = True
        elif char == '"':
            if not quoted or not last:
                raise MatcherError('the value holds a double quote that is not escaped (write \\")')
            quoted = False  # the closing quote
        else:
            out.append(char)
    if quoted:
        raise MatcherError("the value opens a double quote but does not close it")
    return "".join(out)
