"""Translate a Go RE2 regex into an equivalent Python ``re`` pattern, or refuse it.

Alertmanager compiles matcher regexes with Go's ``regexp`` (RE2 syntax). Python
``re`` accepts a different language: it has backreferences and lookaround,
makes ``\\d``/``\\w``/``\\s`` Unicode-aware, lets ``$`` match before a final line
feed, reads ``a{,3}`` as a repeat and lacks ``\\z``, ``\\Q..\\E``, ``\\x{..}``,
POSIX classes, mid-pattern ``(?i)`` and ``(?U)``. :func:`translate` walks the
pattern once, keeps the flags (i, m, s, U) itself with Go's scoping, and emits
each atom explicitly (``^`` as ``\\A``, ``.`` as ``[^\\n]``, classes as code point
ranges), so the result means what RE2 means. Whatever RE2 would reject, or
Python cannot express, raises ValueError with a message for people.
"""

from __future__ import annotations

import re

_MAX_RUNE = 0x10FFFF
_MAX_REPEAT = 1000
Ranges = list[tuple[int, int]]

_PERL: dict[str, Ranges] = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}
_POSIX: dict[str, Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": _PERL["w"],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_SIMPLE_ESCAPES = {"a": 7, "f": 12, "t": 9, "n": 10, "r": 13, "v": 11}
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
_FLAGS = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([:)])")
_NAMED = re.compile(r"\(\?P?<(\w*)>")
_REFUSED_GROUPS = {
    "(?=": "lookahead (?=...) is not supported: Alertmanager uses Go RE2, which has no lookaround",
    "(?!": "lookahead (?!...) is not supported: Alertmanager uses Go RE2, which has no lookaround",
    "(?<=": "lookbehind (?<=...) is not supported: Go RE2 has no lookaround",
    "(?<!": "lookbehind (?<!...) is not supported: Go RE2 has no lookaround",
    "(?P=": "backreferences (?P=name) are not supported by Go RE2",
    "(?>": "atomic groups (?>...) are not supported by Go RE2",
    "(?#": "comments (?#...) are not supported by Go RE2",
    "(?(": "conditionals (?(...)...) are not supported by Go RE2",
}


def translate(pattern: str) -> str:
    """Return a Python pattern that full-matches exactly what RE2 ``^(?:pattern)$`` does."""
    return _Translator(pattern).run()


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.pos = 0
        self.out: list[str] = []
        self.flags = frozenset[str]()
        self.saved: list[frozenset[str]] = []  # flags to restore at each open group's ')'
        self.last = "none"  # what was emitted last: "none", "atom" or "repeat"
        self.names: set[str] = set()

    def run(self) -> str:
        while self.pos < len(self.src):
            self._step(self.src[self.pos])
        if self.saved:
            raise ValueError("missing closing )")
        return "".join(self.out)

    def _step(self, char: str) -> None:
        if char == "\\":
            self._escape()
        elif char == "[":
            self._atom(_class_text(*self._class()), fold=True)
        elif char == "(":
            self._open()
        elif char == ")":
            self._close()
        elif char == "|":
            self._emit("|", "none", 1)
        elif char in "*+?":
            self._repeat(char, 1)
        elif char == "{" and (found := _REPEAT.match(self.src, self.pos)):
            self._repeat(_checked_repeat(found), len(found[0]))
        else:
            self._atom(self._special(char), fold=char not in ".^$")
            self.pos += 1

    def _special(self, char: str) -> str:
        if char == ".":
            return "(?s:.)" if "s" in self.flags else r"[^\n]"
        if char == "^":
            return "(?m:^)" if "m" in self.flags else r"(?:\A)"
        if char == "$":
            return "(?m:$)" if "m" in self.flags else r"(?:\Z)"
        return re.escape(char)

    def _emit(self, text: str, last: str, width: int) -> None:
        self.out.append(text)
        self.last = last
        self.pos += width

    def _atom(self, text: str, fold: bool) -> None:
        self.out.append(f"(?i:{text})" if fold and "i" in self.flags else text)
        self.last = "atom"

    def _repeat(self, operator: str, width: int) -> None:
        if self.last == "none":
            raise ValueError(f"missing argument to repetition operator {operator!r}")
        if self.last == "repeat":
            raise ValueError(f"invalid nested repetition operator {operator!r}")
        lazy = self.src.startswith("?", self.pos + width)
        self._emit(operator, "repeat", width + lazy)
        if lazy != ("U" in self.flags):  # (?U) swaps greedy and lazy
            self.out.append("?")

    def _open(self) -> None:
        for prefix, reason in _REFUSED_GROUPS.items():
            if self.src.startswith(prefix, self.pos):
                raise ValueError(reason)
        if named := _NAMED.match(self.src, self.pos):
            self._named_group(named)
        elif self.src.startswith("(?", self.pos):
            self._flag_group()
        else:
            self.saved.append(self.flags)
            self._emit("(?:", "none", 1)

    def _named_group(self, found: re.Match[str]) -> None:
        name = found[1]
        if not name.isascii() or not name or name in self.names:
            raise ValueError(f"invalid or repeated group name {name!r}")
        self.names.add(name)
        self.saved.append(self.flags)
        self._emit("(?:", "none", len(found[0]))

    def _flag_group(self) -> None:
        found = _FLAGS.match(self.src, self.pos)
        if found is None or found[2] == "":
            snippet = self.src[self.pos : self.pos + 4]
            raise ValueError(f"unsupported group syntax {snippet!r} (Go RE2 flags are i, m, s, U)")
        flags = (self.flags | set(found[1])) - set(found[2] or "")
        self.pos += len(found[0])
        if found[3] == ":":
            self.saved.append(self.flags)
            self.out.append("(?:")
            self.last = "none"
        self.flags = frozenset(flags)

    def _close(self) -> None:
        if not self.saved:
            raise ValueError("unexpected ) without a matching (")
        self.flags = self.saved.pop()
        self._emit(")", "atom", 1)

    def _escape(self) -> None:
        nxt = self.src[self.pos + 1 : self.pos + 2]
        if nxt in ("A", "z"):
            self._emit(r"(?:\A)" if nxt == "A" else r"(?:\Z)", "atom", 2)
        elif nxt in ("b", "B"):
            self._emit(rf"(?a:\{nxt})", "atom", 2)
        elif nxt == "Q":
            self._quoted_literal()
        elif ranges := self._perl_class():
            self._atom(_class_text(ranges, False), fold=False)
        else:
            code, self.pos = _char_escape(self.src, self.pos)
            self._atom(_char(code), fold=True)

    def _quoted_literal(self) -> None:
        end = self.src.find(r"\E", self.pos + 2)
        stop = len(self.src) if end < 0 else end
        for char in self.src[self.pos + 2 : stop]:
            self._atom(re.escape(char), fold=True)
        self.pos = len(self.src) if end < 0 else end + 2

    def _perl_class(self) -> Ranges:
        """``\\d \\D \\s \\S \\w \\W`` at pos: their ranges (pos moves past), else []."""
        letter = self.src[self.pos + 1 : self.pos + 2]
        if letter in ("p", "P"):
            raise ValueError(f"Unicode classes \\{letter}{{...}} are not supported")
        if letter.lower() not in _PERL:
            return []
        self.pos += 2
        ranges = _PERL[letter.lower()]
        return _complement(ranges) if letter.isupper() else list(ranges)

    def _class(self) -> tuple[Ranges, bool]:
        """Parse ``[...]`` at pos; return its ranges and whether it is negated."""
        self.pos += 1
        negated = self.src.startswith("^", self.pos)
        self.pos += negated
        ranges: Ranges = []
        first = True
        while not (self.src.startswith("]", self.pos) and not first):
            if self.pos >= len(self.src):
                raise ValueError("missing closing ] of a character class")
            ranges.extend(self._class_item())
            first = False
        self.pos += 1
        return ranges, negated

    def _class_item(self) -> Ranges:
        if self.src.startswith("[:", self.pos):
            return self._posix_class()
        if self.src.startswith("\\", self.pos) and (perl := self._perl_class()):
            return perl
        low = self._class_char()
        if self.src.startswith("-", self.pos) and not self.src.startswith("-]", self.pos):
            self.pos += 1
            high = self._class_char()
            if high < low:
                raise ValueError(f"invalid character class range {_show(low)}-{_show(high)}")
            return [(low, high)]
        return [(low, low)]

    def _class_char(self) -> int:
        if self.pos >= len(self.src):
            raise ValueError("missing closing ] of a character class")
        if self.src.startswith("\\", self.pos):
            code, self.pos = _char_escape(self.src, self.pos)
            return code
        self.pos += 1
        return ord(self.src[self.pos - 1])

    def _posix_class(self) -> Ranges:
        end = self.src.find(":]", self.pos + 2)
        name = self.src[self.pos + 2 : end] if end >= 0 else ""
        ranges = _POSIX.get(name.removeprefix("^"))
        if ranges is None:
            raise ValueError(f"unknown character class [:{name}:]")
        self.pos = end + 2
        return _complement(ranges) if name.startswith("^") else list(ranges)


def _char_escape(src: str, pos: int) -> tuple[int, int]:
    """A character escape at ``src[pos] == '\\'``: its code point and the next pos."""
    letter = src[pos + 1 : pos + 2]
    if not letter:
        raise ValueError("trailing backslash at end of the regex")
    octal = letter == "0" or (letter in "1234567" and src[pos + 2 : pos + 3] in tuple("01234567"))
    if octal:
        digits = re.match(r"[0-7]{1,3}", src[pos + 1 :])
        assert digits is not None
        return int(digits[0], 8), pos + 1 + len(digits[0])
    if letter in "123456789":
        raise ValueError(f"backreferences like \\{letter} are not supported by Go RE2")
    if letter == "x":
        return _hex_escape(src, pos)
    if letter in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[letter], pos + 2
    if letter.isascii() and not letter.isalnum():
        return ord(letter), pos + 2
    hint = r"; \z is the end of the text" if letter == "Z" else ""
    raise ValueError(f"invalid escape \\{letter} (Go RE2 has no such escape{hint})")


def _hex_escape(src: str, pos: int) -> tuple[int, int]:
    found = re.compile(r"\\x(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2}))").match(src, pos)
    code = int(found[1] or found[2], 16) if found else _MAX_RUNE + 1
    if found is None or code > _MAX_RUNE:
        raise ValueError(r"invalid hex escape: use \x41 or \x{263A}")
    return code, found.end()


def _checked_repeat(found: re.Match[str]) -> str:
    low = int(found[1])
    high = low if found[2] is None else int(found[3]) if found[3] else None
    if low > _MAX_REPEAT or (high is not None and (high > _MAX_REPEAT or high < low)):
        raise ValueError(f"invalid repeat count {found[0]} (at most {_MAX_REPEAT})")
    return found[0]


def _complement(ranges: Ranges) -> Ranges:
    result: Ranges = []
    start = 0
    for low, high in sorted(ranges):
        if low > start:
            result.append((start, low - 1))
        start = max(start, high + 1)
    if start <= _MAX_RUNE:
        result.append((start, _MAX_RUNE))
    return result


def _class_text(ranges: Ranges, negated: bool) -> str:
    body = "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)
    return f"[{'^' if negated else ''}{body}]"


def _char(code: int) -> str:
    return chr(code) if chr(code).isascii() and chr(code).isalnum() else f"\\U{code:08x}"


def _show(code: int) -> str:
    return repr(chr(code))
