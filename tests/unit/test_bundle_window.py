"""`throttle.bundle_window` (issue 14): a Prometheus duration from 30s to 15m,
default 2m; anything else is a `pager check` error at its file and line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pager.cli import main
from pager.policy.loader import load_policy

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "policies/testdata/bad/bundle_window_too_long/policy.yaml").read_text()
BASE = GOOD[: GOOD.index("throttle:")]


def _check(tmp_path: Path, throttle: str) -> tuple[int, list[str]]:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "policy.yaml").write_text(BASE + throttle)
    result = CliRunner().invoke(main, ["check", str(tmp_path / "p")])
    return result.exit_code, result.output.splitlines()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "must be between 30s and 15m (e.g. 2m)"),
        ("10s", "must be between 30s and 15m (e.g. 2m)"),
        ("15m1s", "must be between 30s and 15m (e.g. 2m)"),
        ("120", "duration 120 needs a unit, e.g. 120s or 120m"),
        ("2 minutes", "invalid duration '2 minutes': use e.g. 30s, 5m, 1h30m, 2d, 1w,"),
        ("1m2h", "invalid duration '1m2h': units go largest first, each once"),
    ],
)
def test_a_bad_bundle_window_is_an_error_at_its_line(
    tmp_path: Path, value: str, message: str
) -> None:
    status, lines = _check(
        tmp_path, f"throttle:\n  sms: {{per_15m: 5, per_1h: 11}}\n  bundle_window: {value}\n"
    )
    assert status == 1
    assert lines[0].startswith(f"policy.yaml:28: throttle.bundle_window: {message}"), lines
    assert lines[-1].endswith("invalid (1 error(s), 0 warning(s))")


def test_bundle_window_defaults_to_2m_and_takes_the_bounds(tmp_path: Path) -> None:
    for value, expected in (("30s", timedelta(seconds=30)), ("15m", timedelta(minutes=15))):
        status, lines = _check(tmp_path, f"throttle: {{bundle_window: {value}}}\n")
        assert status == 0, lines
        loaded = load_policy(tmp_path / "p")
        assert loaded.policy.throttle.bundle_window == expected
        (tmp_path / "p" / "policy.yaml").unlink()
        (tmp_path / "p").rmdir()
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "policy.yaml").write_text(BASE)
    assert load_policy(tmp_path / "q").policy.throttle.bundle_window == timedelta(minutes=2)
    assert load_policy(ROOT / "policies").policy.throttle.bundle_window == timedelta(minutes=2)
