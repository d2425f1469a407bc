"""JSON columns' text: orjson where it agrees with the standard library, `json` elsewhere.

Every alert, incident and timeline event a webhook writes has JSON columns
(labels, annotations, details), and the engine writes and reads more: with
`json` their encoding was a few percent of a webhook's CPU; orjson (C, one
call) takes a fraction of that.

Stored values read as before. orjson writes the same JSON values (compact,
UTF-8 instead of `\\uXXXX` escapes: nothing compares the stored text), and what
orjson refuses is left to `json`, so nothing `json` took is refused or stored
differently: keys that are not strings, integers beyond 64 bits, strings with
lone surrogates. On reading, the same: NaN and Infinity (which `json` writes
for such floats), surrogate escapes, and any text with a run of 19 digits or
more (orjson would read an integer beyond 64 bits as a float). The one
difference: a NaN or infinite float is written as null (`json` wrote NaN,
which is not JSON and PostgreSQL refuses); webhooks' labels and annotations
are strings, and pager's own values (details, policy bodies) hold no such float.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from pager.labels.regex import unanchored


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # what json.dumps takes and orjson does not
        return json.dumps(value)


# RE2 (linear, a DFA): Python's `re` tried a match at every digit, 3 ms for the
# 10,000 ids of a storm's bundle, read at every claim. JSON's digits are ASCII.
_LONG_NUMBER = unanchored(r"[0-9]{19}")


def loads(text: str) -> Any:
    # Bytes, as the matchers search (pager/labels/regex.py): a lone surrogate is
    # no encoding error.
    if _LONG_NUMBER.search(text.encode("utf-8", "surrogatepass")) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:  # what json.loads takes and orjson does not
            pass
    return json.loads(text)
