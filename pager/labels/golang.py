"""The few Go standard library behaviours Alertmanager's matcher parsers rely on.

Guarantees, each as Go defines it (so that pager reads a matcher string as
Alertmanager does, byte for byte):
* :func:`is_space` is ``unicode.IsSpace`` and :func:`trim_space` is
  ``strings.TrimSpace`` (Python's ``str.isspace`` differs: it counts
  U+001C..U+001F as spaces, Go does not).
* :func:`unquote` is ``strconv.Unquote`` of a double-quoted string followed by
  the UTF-8 check of Alertmanager's ``token.unquote``: every Go escape
  (``\\a \\b \\f \\n \\r \\t \\v \\\\ \\" \\xHH \\NNN \\uHHHH \\UHHHHHHHH``), ``\\x`` and
  octal escapes being bytes, a raw line feed or ``\\'`` being an error.
* :func:`quote` is ``strconv.Quote``: what Go prints for a string.
"""

from __future__ import annotations

import unicodedata

# unicode.IsSpace: the Latin-1 spaces, then the White_Space property above Latin-1.
_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)
_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}
_HEX = frozenset("0123456789abcdefABCDEF")
_QUOTE_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}


class GoSyntaxError(ValueError):
    """The text is not a valid Go double-quoted string literal."""


def is_space(char: str) -> bool:
    return char in _SPACES


def trim_space(text: str) -> str:
    start, end = 0, len(text)
    while start < end and text[start] in _SPACES:
        start += 1
    while end > start and text[end - 1] in _SPACES:
        end -= 1
    return text[start:end]


def unquote(literal: str) -> str:
    """The value of a Go ``"..."`` literal; raise GoSyntaxError if Go would refuse it."""
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise GoSyntaxError("not a double-quoted string")
    body, out, i = literal[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char in '"\n':
            raise GoSyntaxError("unescaped double quote or line feed inside the quotes")
        if char != "\\":
            out += _utf8(char)
            i += 1
            continue
        i = _escape(body, i + 1, out)
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise GoSyntaxError("the escapes spell invalid UTF-8") from None


def _escape(body: str, i: int, out: bytearray) -> int:
    """Append the escape that starts at ``body[i]`` (after the backslash); return the next index."""
    if i >= len(body):
        raise GoSyntaxError("a backslash at the end")
    char = body[i]
    if char in _SIMPLE:
        out.append(_SIMPLE[char])
        return i + 1
    if char in _HEX_DIGITS:
        digits = body[i + 1 : i + 1 + _HEX_DIGITS[char]]
        if len(digits) != _HEX_DIGITS[char] or not all(d in _HEX for d in digits):
            raise GoSyntaxError(f"\\{char} needs {_HEX_DIGITS[char]} hex digits")
        value = int(digits, 16)
        if char == "x":
            out.append(value)  # a byte, not a code point
        elif value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise GoSyntaxError(f"\\{char}{digits} is not a Unicode code point")
        else:
            out += chr(value).encode("utf-8")
        return i + 1 + len(digits)
    digits = body[i : i + 3]
    if len(digits) == 3 and all(d in "01234567" for d in digits) and int(digits, 8) <= 255:
        out.append(int(digits, 8))
        return i + 3
    raise GoSyntaxError(f"unknown escape \\{char}")


def _utf8(char: str) -> bytes:
    try:
        return char.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: Go's text is UTF-8 bytes, never one
        raise GoSyntaxError("invalid UTF-8 (a lone surrogate)") from None


def quote(text: str) -> str:
    """``strconv.Quote``: printable characters as they are, the rest escaped."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[code])
        elif _printable(char):
            out.append(char)
        elif code < 0x80 or 0xD800 <= code <= 0xDFFF:  # a surrogate: its bytes, as Go would
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _printable(char: str) -> bool:
    """``strconv.IsPrint``: letters, marks, numbers, punctuation, symbols and U+0020."""
    return char == " " or unicodedata.category(char)[0] in "LMNPS"
