"""Start-up failures through the real command, in a subprocess: exit status 1 and
one line on stderr naming the setting and the fix; the traceback only with --debug."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.observability.daemon import free_port

ROOT = Path(__file__).resolve().parents[2]
GOOD_POLICY = ROOT / "policies"
BAD_POLICY = ROOT / "policies/testdata/bad/bad_duration"


def pager(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PAGER_", "TWILIO_"))}
    values = {
        **clean,
        "PAGER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pager.db'}",
        "PAGER_POLICIES": str(GOOD_POLICY),
        "PAGER_LISTEN": f"127.0.0.1:{free_port()}",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "pager", *args],
        env=values,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines
    return lines[0]


def test_sqlite_directory_missing(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/pager.db"
    line = one_line(pager(tmp_path, "serve", PAGER_DATABASE_URL=url))
    assert line == (
        f"Error: PAGER_DATABASE_URL: the directory {tmp_path}/no/such/dir of the SQLite "
        f"database does not exist: create it (mkdir -p {tmp_path}/no/such/dir) or point "
        "PAGER_DATABASE_URL elsewhere"
    )


def test_database_refusing_connections(tmp_path):
    port = free_port()  # nothing listens there
    url = f"postgresql+asyncpg://pager:secret@127.0.0.1:{port}/pager"
    for command in ("serve", "migrate"):
        line = one_line(pager(tmp_path, command, PAGER_DATABASE_URL=url))
        assert line.startswith(
            f"Error: PAGER_DATABASE_URL: cannot use the database "
            f"postgresql+asyncpg://pager:***@127.0.0.1:{port}/pager: "
        )
        assert line.endswith(f"start PostgreSQL on 127.0.0.1:{port} or fix PAGER_DATABASE_URL")
        assert "secret" not in line


@pytest.mark.postgres
def test_database_missing(tmp_path):
    name = f"pager_missing_{uuid.uuid4().hex[:8]}"
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    line = one_line(pager(tmp_path, "serve", PAGER_DATABASE_URL=url))
    assert f'database "{name}" does not exist: create it (createdb {name})' in line


def test_port_already_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        line = one_line(pager(tmp_path, "serve", PAGER_LISTEN=listen))
    assert line == (
        f"Error: PAGER_LISTEN: {listen} is already in use (another pager?): stop what "
        "listens there or choose another address with --listen or PAGER_LISTEN"
    )
    assert not (tmp_path / "pager.db").exists()  # said before the database was touched


def test_policy_invalid_or_missing(tmp_path):
    line = one_line(pager(tmp_path, "serve", PAGER_POLICIES=str(BAD_POLICY)))
    assert line == (
        f"Error: PAGER_POLICIES={BAD_POLICY}: the policy is invalid: policy.yaml:9: "
        "rotations[0].shift: invalid duration '1x': use e.g. 30s, 5m, 1h30m, 2d, 1w, "
        "each unit once, largest first; "
        f"fix it (`pager check {BAD_POLICY}` lists every problem)"
    )
    missing = tmp_path / "nowhere"
    line = one_line(pager(tmp_path, "serve", PAGER_POLICIES=str(missing)))
    assert f"PAGER_POLICIES={missing}: the policy is invalid: {missing}: not a directory" in line


def test_a_bad_setting_is_one_line_too(tmp_path):
    line = one_line(pager(tmp_path, "serve", PAGER_LISTEN="8080", PAGER_TICK_INTERVAL="0"))
    assert line.startswith("Error: invalid settings: PAGER_LISTEN: '8080' must be HOST:PORT")
    assert "; PAGER_TICK_INTERVAL:" in line


def test_debug_shows_the_traceback(tmp_path):
    url = f"postgresql+asyncpg://pager@127.0.0.1:{free_port()}/pager"
    result = pager(tmp_path, "serve", "--debug", PAGER_DATABASE_URL=url)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "ConnectionRefusedError" in result.stderr
