"""Regexes as Alertmanager runs them: Go's RE2 syntax, anchored as ``^(?:…)$``, linear time.

Guarantees:
* The engine is Google's RE2 (the ``google-re2`` package), whose matching
  time is linear in the input: no pattern backtracks, so ``(a+)+b`` against
  a long label costs what ``a+b`` does.
* A value is compiled as Alertmanager compiles it, as the text
  ``^(?:`` + value + ``)$``, so even ``a)|(b`` means what it means there.
* What RE2 in C++ accepts but Go's ``regexp`` refuses is refused too:
  ``\\C``, ``(?<name>…)`` (Go before 1.22, i.e. Alertmanager 0.27), group
  names Go would not take (empty or not ASCII letters, digits and ``_``) and
  groups nested more than 1000 deep. RE2's own limits (a repeat over 1000,
  also when nested, and a program over its 8 MiB memory budget) are errors
  as well; Go allows somewhat larger programs, so a huge pattern may be
  refused here that Alertmanager would take.
* RE2 never writes to stderr (``log_errors`` is off); every refusal is a
  RegexError whose message is meant for people.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import re2

ENGINE = "RE2"  # the engine every matcher regex runs on
MAX_NESTING = 1000  # Go's regexp/syntax maxHeight
_HINTS = (
    ("(?=", "lookahead is not supported: RE2 has no lookaround"),
    ("(?!", "lookahead is not supported: RE2 has no lookaround"),
    ("(?<=", "lookbehind is not supported: RE2 has no lookaround"),
    ("(?<!", "lookbehind is not supported: RE2 has no lookaround"),
    ("(?P=", "backreferences are not supported by RE2"),
    ("(?>", "atomic groups are not supported by RE2"),
    ("(?#", "comments are not supported by RE2"),
    ("(?x", "the x (extended) flag is not supported by RE2"),
)


class RegexError(ValueError):
    """The pattern is not one Alertmanager would compile; the message says why."""


@dataclass(frozen=True, eq=False)
class Regex:
    """A compiled, anchored pattern. ``matches`` is a search of ``^(?:pattern)$``."""

    pattern: str
    _compiled: Any  # re2's compiled pattern (the package has no type hints)

    def matches(self, value: str) -> bool:
        # Bytes, so a value with a lone surrogate is matched, never an encoding error.
        data = value.encode("utf-8", "surrogatepass")
        return self._compiled.search(data) is not None


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.never_capture = True  # matching only answers yes or no
    return options


_OPTIONS = _options()


def unanchored(pattern: str) -> Any:
    """RE2's compiled `pattern` as written, for a search anywhere in a text (pager's
    own patterns, not a matcher's: those are `compile_anchored`)."""
    return re2.compile(pattern, _OPTIONS)


@functools.lru_cache(maxsize=4096)
def compile_anchored(pattern: str) -> Regex:
    """Compile ``pattern`` as Alertmanager does, or raise RegexError."""
    try:
        pattern.encode("utf-8")
    except UnicodeEncodeError:
        raise RegexError("the pattern is not valid UTF-8") from None
    refusal = go_refusal(pattern)
    if refusal is not None:
        raise RegexError(refusal)
    try:
        return Regex(pattern, re2.compile(f"^(?:{pattern})$", _OPTIONS))
    except re2.error as err:
        raise RegexError(_explain(pattern, _message(err))) from None


def _message(err: re2.error) -> str:
    """RE2's ``missing ): (x`` as ``missing ) at '(x'``."""
    text = err.args[0] if err.args else "invalid pattern"
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    what, colon, where = text.partition(": ")
    return f"{what} at '{where}'" if colon else text


def _explain(pattern: str, anchored_error: str) -> str:
    """Word the error about the user's pattern, not about the anchoring around it."""
    try:
        re2.compile(pattern, _OPTIONS)
    except re2.error as err:
        message = _message(err)
        for start, hint in _HINTS:
            if start in pattern and message.startswith("invalid perl operator"):
                return hint
        if message.startswith("invalid escape sequence at '\\") and message[-2:-1].isdigit():
            return f"{message} (backreferences are not supported by RE2)"
        return message
    return f"it does not fit Alertmanager's anchoring ^(?:…)$: {anchored_error}"


def go_refusal(pattern: str) -> str | None:
    """Why Go's regexp would refuse a pattern RE2 accepts, or None."""
    scan = _Scan(pattern)
    scan.run()
    return scan.refusal


def _valid_group_name(name: str) -> bool:
    """Go's isValidCaptureName: ASCII letters, digits and '_', at least one."""
    return name.isascii() and name.replace("_", "a").isalnum()


class _Scan:
    """One pass over a pattern's groups and escapes, outside and inside classes."""

    def __init__(self, pattern: str) -> None:
        self.text, self.i, self.depth = pattern, 0, 0
        self.refusal: str | None = None

    def run(self) -> None:
        while self.i < len(self.text) and self.refusal is None:
            char = self.text[self.i]
            if char == "\\":
                self._escape(in_class=False)
            elif char == "[":
                self._class()
            elif char == "(":
                self._group()
            else:
                self.depth -= char == ")"
                self.i += 1

    def _escape(self, in_class: bool) -> None:
        nxt = self.text[self.i + 1 : self.i + 2]
        if nxt == "C":
            self.refusal = "\\C (any byte) is not supported by Go's regexp"
        elif nxt == "Q" and not in_class:
            end = self.text.find("\\E", self.i + 2)
            self.i = len(self.text) if end < 0 else end + 2
            return
        self.i += 2

    def _class(self) -> None:
        self.i += 1
        if self.text.startswith("^", self.i):
            self.i += 1
        if self.text.startswith("]", self.i):
            self.i += 1  # a leading ] is a literal
        while self.i < len(self.text) and self.refusal is None:
            char = self.text[self.i]
            if char == "]":
                self.i += 1
                return
            if char == "\\":
                self._escape(in_class=True)
            elif self.text.startswith("[:", self.i) and ":]" in self.text[self.i + 2 :]:
                self.i = self.text.index(":]", self.i + 2) + 2
            else:
                self.i += 1

    def _group(self) -> None:
        rest = self.text[self.i :]
        if rest.startswith("(?<") and not rest.startswith(("(?<=", "(?<!")):
            self.refusal = (
                "write (?P<name>…): Go before 1.22 (Alertmanager 0.27) refuses (?<name>…)"
            )
            return
        if rest.startswith("(?P<"):
            name = rest[4:].partition(">")[0]
            if not _valid_group_name(name):
                self.refusal = f"invalid group name {name!r} (Go takes [A-Za-z0-9_]+)"
                return
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.refusal = f"groups nested more than {MAX_NESTING} deep (Go's regexp refuses it)"
        self.i += 1
