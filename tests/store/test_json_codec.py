"""The JSON columns' codec reads and writes the values the standard library did:
what it writes, `json` reads back equal (so older code and other tools read it),
what `json` wrote it reads equal, and what orjson would refuse or read otherwise
(non-string keys, big integers, lone surrogates, NaN) goes through `json`."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pager.store import json_codec

scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()  # lone surrogates too
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(values)
def test_what_it_writes_reads_back_equal_by_both(value: Any) -> None:
    text = json_codec.dumps(value)
    assert isinstance(text, str)
    assert json.loads(text) == value
    assert json_codec.loads(text) == value


@given(values)
def test_it_reads_what_json_wrote(value: Any) -> None:
    text = json.dumps(value)
    read = json_codec.loads(text)
    assert read == value
    assert type(read) is type(value)


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ({1: "a", 2.5: "b", None: "c"}, {"1": "a", "2.5": "b", "null": "c"}),
        ({"big": 2**70, "low": -(2**63) - 1}, {"big": 2**70, "low": -(2**63) - 1}),
        ({"s": "\ud800"}, {"s": "\ud800"}),
    ],
)
def test_what_orjson_refuses_is_written_as_json_did(value: Any, read: Any) -> None:
    assert json_codec.dumps(value) == json.dumps(value)
    assert json_codec.loads(json_codec.dumps(value)) == read


def test_nan_written_by_json_reads_as_nan() -> None:
    read = json_codec.loads(json.dumps({"x": math.nan, "y": math.inf}))
    assert math.isnan(read["x"])
    assert read["y"] == math.inf


def test_a_long_run_of_digits_is_read_by_json_also_inside_a_string() -> None:
    """The run of 19 digits is looked for in the whole text, strings included (a
    string reads the same either way), and a lone surrogate is no error there."""
    text = '{"n": 12345678901234567890, "s": "1234567890123456789\\ud800", "u": "\ud800"}'
    assert json_codec.loads(text) == json.loads(text)
    assert json_codec.loads("[1, 2]") == [1, 2]
