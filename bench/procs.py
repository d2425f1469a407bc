"""Processes and databases the benchmarks start, and always stop.

`Proc` runs one child (`pager serve`, a baseline server, the Twilio recorder)
with its output in a log file, waits until it answers, reads its RSS from
/proc and stops it with SIGTERM (then SIGKILL) when the `with` block ends.
`database(kind)` yields a fresh migrated-by-the-daemon URL: a temporary
SQLite file, or a `pager_bench_<random>` PostgreSQL database that is dropped
at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp

from tests.scratch import scratch_database

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("PAGER_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
WEBHOOK_TOKEN = "bench-hook-token"
API_TOKEN = "bench-api-token"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_ENV = {
    "TWILIO_ACCOUNT_SID": TWILIO_SID,
    "TWILIO_AUTH_TOKEN": "bench-auth-token",
    "PAGER_TWILIO_FROM": "+15005550006",
}


def compile_pager(tree: Path = ROOT) -> None:
    """Byte-compile the pager package the daemons import from `tree`, as pip does
    for an installed pager and the image's build does: a checkout has no .pyc
    (PYTHONDONTWRITEBYTECODE=1 here), and compiling ~110 modules at every start
    is ~0.1 s of start to ready that no operator pays. Only stale files are
    rewritten; a .pyc older than its source is ignored by Python anyway."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "pager")], check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of `pid` (VmRSS now, VmHWM its peak), in MB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Proc:
    """A child process on 127.0.0.1:`port`, stopped on exit from `with`."""

    def __init__(self, argv: list[str], port: int, env: Mapping[str, str], log: Path) -> None:
        self.argv, self.port, self.log = argv, port, log
        self.env = {**os.environ, **env}
        self.url = f"http://127.0.0.1:{port}"
        self.popen: subprocess.Popen[bytes] | None = None
        self.spy: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.profile: Path | None = None  # set: py-spy samples the child into this file

    def __enter__(self) -> Proc:
        self.started = time.perf_counter()
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        if self.profile is not None:
            spy = [str(Path(sys.executable).parent / "py-spy"), "record", "--nonblocking"]
            spy += ["-r", "100", "-f", "raw", "-p", str(self.popen.pid), "-o", str(self.profile)]
            self.spy = subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def stop(self) -> None:
        if self.spy is not None:  # py-spy writes its file on SIGINT
            self.spy.send_signal(signal.SIGINT)
            self.spy.wait(timeout=30)
            self.spy = None
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=25)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    async def wait_ready(self, path: str = "/readyz", within: float = 60) -> float:
        """Seconds from start until `path` answered 200."""
        deadline = self.started + within
        async with aiohttp.ClientSession() as session:
            while time.perf_counter() < deadline:
                if self.popen is not None and self.popen.poll() is not None:
                    raise RuntimeError(f"{self.argv} exited: see {self.log}\n{self.tail()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with session.get(self.url + path) as resp:
                        if resp.status == 200:
                            return time.perf_counter() - self.started
                await asyncio.sleep(0.01)
        raise TimeoutError(f"{self.argv} not ready in {within}s: {self.tail()}")

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def pager(
    workdir: Path, db_url: str, policies: Path, *, twilio_url: str | None = None, **env: str
) -> Proc:
    """`python -m pager serve` with settings in the environment, as an operator runs it."""
    port = free_port()
    settings = {
        "PAGER_DATABASE_URL": db_url,
        "PAGER_POLICIES": str(policies),
        "PAGER_LISTEN": f"127.0.0.1:{port}",
        "PAGER_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "PAGER_API_TOKEN": API_TOKEN,
        "PAGER_LOG_FORMAT": "json",
        **env,
    }
    if twilio_url:
        settings |= TWILIO_ENV | {"PAGER_TWILIO_API_URL": twilio_url}
    argv = [sys.executable, "-m", "pager", "serve"]
    proc = Proc(argv, port, settings, workdir / f"pager-{port}.log")
    profiles = os.environ.get("PAGER_BENCH_PROFILE")  # a directory: py-spy every daemon
    if profiles:
        proc.profile = Path(profiles) / f"pager-{port}.txt"
    return proc


def baseline(workdir: Path, relay: str | None = None) -> Proc:
    port = free_port()
    argv = [sys.executable, "-m", "bench.servers", "baseline", "--port", str(port)]
    argv += ["--relay", relay] if relay else []
    return Proc(argv, port, {}, workdir / f"baseline-{port}.log")


def recorder(workdir: Path) -> Proc:
    port = free_port()
    argv = [sys.executable, "-m", "bench.servers", "recorder", "--port", str(port)]
    return Proc(argv, port, {}, workdir / f"recorder-{port}.log")


async def records(recorder_url: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(recorder_url + "/records") as r:
        found: list[dict[str, Any]] = await r.json()
        return found


async def record_count(recorder_url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(recorder_url + "/count") as r:
        return int(await r.json())


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="pager-bench-") as name:
        yield Path(name)


@contextlib.asynccontextmanager
async def database(kind: str, where: Path) -> AsyncIterator[str]:
    """A fresh, empty database URL of `kind` ("sqlite" or "postgres"), removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{where / f'pager-{uuid.uuid4().hex[:8]}.db'}"
        return
    async with scratch_database(PG_ADMIN_URL, "pager_bench") as url:
        yield url
