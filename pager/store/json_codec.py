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
import re
from typing import Any

import orjson


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # what json.dumps takes and orjson does not
        return json.dumps(value)


_LONG_NUMBER = re.compile(r"\d{19}")


def loads(text: str) -> Any:
    if _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:  # what json.loads takes and orjson does not
            pass
    return json.loads(text)
