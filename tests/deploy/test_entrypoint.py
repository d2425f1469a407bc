"""The image's entrypoint works outside Docker: `pager serve` with the image's
environment, from a clean virtualenv built the way the Dockerfile builds it
(deploy/entrypoint-smoke.sh), serves and answers /healthz."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "entrypoint-smoke.sh"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("image") / "venv"
    subprocess.run(["bash", str(SCRIPT), str(target)], check=True, capture_output=True, timeout=600)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(venv: Path, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = free_port()
    env = {
        **os.environ,
        "SMOKE_REUSE": "1",  # the venv fixture built it; run, don't rebuild
        "PAGER_LISTEN": f"0.0.0.0:{port}",
        "PAGER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pager.db'}",
        "PAGER_WEBHOOK_TOKEN": "w" * 32,
        "PAGER_API_TOKEN": "a" * 32,
    }
    proc = subprocess.Popen(
        ["bash", str(SCRIPT), str(venv), "--", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield port, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_entrypoint_serves_healthz(served: tuple[int, subprocess.Popen[str]]) -> None:
    port, proc = served
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                assert json.loads(r.read())["status"] == "ok"
                break
        except OSError:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "no /healthz within 60 s"
            time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)  # what `docker stop` sends
    assert proc.wait(timeout=30) == 0


def test_entrypoint_refuses_open_network_without_tokens(venv: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    env |= {
        "SMOKE_REUSE": "1",
        "PAGER_LISTEN": f"0.0.0.0:{free_port()}",
        "PAGER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pager.db'}",
    }
    done = subprocess.run(
        ["bash", str(SCRIPT), str(venv), "--", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "refusing to serve on 0.0.0.0" in done.stderr


def test_the_package_builds_without_deprecation_warnings(tmp_path: Path) -> None:
    """`project.license` as a TOML table is deprecated (PEP 639): it is an SPDX string."""
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert "BuildBackendWarning" not in build.stdout + build.stderr
    assert list(tmp_path.glob("pager-*.whl"))
