"""The image's entrypoint works outside Docker: `pager serve` with the image's
environment, from a clean virtualenv built the way the Dockerfile builds it
(deploy/entrypoint-smoke.sh), serves and answers /healthz, and its web
console finds its templates and static files (package data, not the source
tree: the image has no source tree)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.build_context import build_stage
from tests.deploy.once import built_once, run_dir

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "entrypoint-smoke.sh"
STATIC_URL = re.compile(r'(?:href|src)="(/static/[^"]+)"')


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The script's venv, built once for the run (tests/deploy/once.py); each test
    runs its own `pager serve` from it, on its own port and database."""

    def build(into: Path) -> None:
        subprocess.run(
            ["bash", str(SCRIPT), str(into / "venv")], check=True, capture_output=True, timeout=600
        )

    return built_once(run_dir(tmp_path_factory), "image", build) / "venv"


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


def wait_healthy(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                assert json.loads(r.read())["status"] == "ok"
                return
        except OSError:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "no /healthz within 60 s"
            time.sleep(0.2)


def test_entrypoint_serves_healthz(served: tuple[int, subprocess.Popen[str]]) -> None:
    port, proc = served
    wait_healthy(port, proc)
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


@pytest.fixture
def installed(venv: Path, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """`pager serve` of the venv the script built, run from outside the source tree."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAGER_")}
    env |= {
        "PAGER_LISTEN": f"127.0.0.1:{port}",
        "PAGER_POLICIES": str(ROOT / "policies"),
        "PAGER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pager.db'}",
    }
    proc = subprocess.Popen(
        [str(venv / "bin" / "pager"), "serve"],
        env=env,
        cwd=tmp_path,  # not the source tree: only what the wheel installed
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield port, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_installed_console_serves_its_pages_and_static_files(
    installed: tuple[int, subprocess.Popen[str]],
) -> None:
    port, proc = installed
    wait_healthy(port, proc)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=5) as r:
        page = r.read().decode()
    assets = STATIC_URL.findall(page)
    assert len(assets) >= 4, page  # pico, console.css, htmx, its SSE extension, console.js
    for path in assets:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            assert r.status == 200
            assert r.read()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel `pip install .` makes in the Dockerfile's build stage (from the
    files its COPY lines take from the .dockerignore'd context), and pip's output;
    built once for the run (tests/deploy/once.py)."""

    def build(into: Path) -> None:
        (into / "docker").mkdir()
        stage = build_stage(ROOT, into / "docker")
        out = into / "wheel"
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(out), str(stage)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        (into / "pip.log").write_text(done.stdout + done.stderr)
        assert done.returncode == 0, done.stdout + done.stderr

    built = built_once(run_dir(tmp_path_factory), "image-wheel", build)
    (found,) = (built / "wheel").glob("pager-*.whl")
    return found, (built / "pip.log").read_text()


def test_the_package_builds_without_deprecation_warnings(wheel: tuple[Path, str]) -> None:
    """`project.license` as a TOML table is deprecated (PEP 639): it is an SPDX string."""
    assert "BuildBackendWarning" not in wheel[1]


@pytest.mark.parametrize(
    ("folder", "packed_as"),
    [
        ("pager/web/templates", "pager/web/templates"),
        ("pager/web/static", "pager/web/static"),
        ("alembic/versions", "pager/migrations/versions"),  # pager/migrations -> ../alembic
        ("alembic", "pager/migrations"),
    ],
)
def test_the_image_wheel_carries_every_data_file(
    wheel: tuple[Path, str], folder: str, packed_as: str
) -> None:
    """Package data (pyproject.toml) lists these by glob, and the migrations come through
    a symlink: a file missed would be in the work tree, so in every other test, but not
    in the image (the console's pages, or `pager migrate` on start)."""
    source = {
        p.relative_to(ROOT / folder).as_posix()
        for p in (ROOT / folder).glob("*")
        if p.is_file() and p.suffix != ".pyc"
    }
    assert source, f"nothing in {folder}"
    with zipfile.ZipFile(wheel[0]) as archive:
        names = archive.namelist()
    packed = {n.removeprefix(packed_as + "/") for n in names if n.startswith(packed_as + "/")}
    assert source - packed == set()
