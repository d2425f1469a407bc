"""Policy durations are Prometheus durations: its grammar, its range, its printing.

Cases from prometheus/common model/time_test.go (TestParseDuration,
TestDuration) and the grammar of ParseDuration: units y w d h m s ms, each
at most once, largest first; "0" alone; at most what time.Duration holds.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from pager.policy.durations import (
    Duration,
    PositiveDuration,
    format_duration,
    parse_duration,
)

MS = timedelta(milliseconds=1)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "value", "printed"),
    [
        ("0", timedelta(0), "0s"),
        ("0s", timedelta(0), "0s"),
        ("0w", timedelta(0), "0s"),
        ("324ms", 324 * MS, "324ms"),
        ("3s", timedelta(seconds=3), "3s"),
        ("5m", timedelta(minutes=5), "5m"),
        ("1h", timedelta(hours=1), "1h"),
        ("4d", 4 * DAY, "4d"),
        ("4d1h", 4 * DAY + timedelta(hours=1), "4d1h"),
        ("14d", 14 * DAY, "2w"),
        ("3w", 21 * DAY, "3w"),
        ("3w2d1h", 23 * DAY + timedelta(hours=1), "23d1h"),  # weeks only when exact
        ("10y", 3650 * DAY, "10y"),
        ("1y1d", 366 * DAY, "366d"),  # years only when exact
        ("90d", 90 * DAY, "90d"),  # not 12w6d
        ("1h30m", timedelta(minutes=90), "1h30m"),
        ("90m", timedelta(minutes=90), "1h30m"),
        ("1s500ms", 1500 * MS, "1s500ms"),
        (
            "1y2w3d4h5m6s7ms",
            timedelta(days=365 + 14 + 3, hours=4, minutes=5, seconds=6) + 7 * MS,
            "382d4h5m6s7ms",
        ),
        ("292y", 292 * 365 * DAY, "292y"),
    ],
)
def test_parse_and_print(text: str, value: timedelta, printed: str) -> None:
    assert parse_duration(text) == value
    assert format_duration(value) == printed
    assert parse_duration(printed) == value


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty duration"),
        ("1", "invalid duration '1'"),
        ("1m1h", "largest first"),
        ("1h1h", "largest first"),
        ("1d1w", "largest first"),
        ("1s1ms1s", "largest first"),
        ("1.5h", "invalid duration"),
        ("-1h", "invalid duration"),
        ("1h ", "invalid duration"),
        (" 1h", "invalid duration"),
        ("1x", "invalid duration"),
        ("1µs", "invalid duration"),
        ("1H", "invalid duration"),
        ("h", "invalid duration"),
        ("\u0661h", "invalid duration"),  # an Arabic-Indic digit is no digit to Go
        ("293y", "out of range"),
        ("1000000000d", "out of range"),
        ("500000w", "out of range"),
        ("9" * 5000 + "s", "out of range"),
    ],
)
def test_not_a_prometheus_duration(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        parse_duration(text)


def test_yaml_numbers_only_as_zero() -> None:
    durations = TypeAdapter(Duration)
    assert durations.validate_python(0) == timedelta(0)
    with pytest.raises(ValidationError, match="needs a unit"):
        durations.validate_python(5)
    with pytest.raises(ValidationError):
        durations.validate_python(True)


def test_positive_durations_refuse_zero() -> None:
    positive = TypeAdapter(PositiveDuration)
    assert positive.validate_python("1ms") == MS
    with pytest.raises(ValidationError, match="must be more than 0"):
        positive.validate_python("0")
    assert positive.dump_python(timedelta(minutes=5), mode="json") == "5m"


@given(st.integers(min_value=0, max_value=(2**63 - 1) // 1_000_000))
def test_printing_reads_back(ms: int) -> None:
    value = ms * MS
    assert parse_duration(format_duration(value)) == value
