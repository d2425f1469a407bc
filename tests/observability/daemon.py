"""`pager serve` as a real subprocess: a free port, a temp policy dir, SQLite.

Its output (stdout and stderr, not a tty) goes to a file the test reads.
Stopped by its own PID (SIGTERM, then SIGKILL) at the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import aiohttp

from tests.harness import API_TOKEN, WEBHOOK_TOKEN, write_policy
from tests.polling import eventually


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Daemon:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path, out: IO[bytes]) -> None:
        self.proc, self.url, self.log, self._out = proc, url, log, out

    @classmethod
    async def start(cls, tmp_path: Path, policy: str, **env: str) -> Daemon:
        return await cls.launch(tmp_path, policy, env)

    @classmethod
    async def launch(
        cls,
        tmp_path: Path,
        policy: str,
        env: dict[str, str],
        preexec: Callable[[], None] | None = None,
    ) -> Daemon:
        """`start`, with `preexec` run in the child before pager starts (its rlimits)."""
        port = free_port()
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("PAGER_", "TWILIO_"))}
        values = {
            **clean,
            "PAGER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'daemon.db'}",
            "PAGER_POLICIES": str(write_policy(tmp_path / "policies", policy)),
            "PAGER_LISTEN": f"127.0.0.1:{port}",
            "PAGER_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
            "PAGER_API_TOKEN": API_TOKEN,
            "PAGER_TICK_INTERVAL": "1",
            **env,
        }
        log = tmp_path / "daemon.log"
        daemon = cls.spawn(values, log, tmp_path, f"http://127.0.0.1:{port}", preexec)
        await daemon.wait_ready()
        return daemon

    @classmethod
    def spawn(
        cls,
        env: dict[str, str],
        log: Path,
        cwd: Path,
        url: str,
        preexec: Callable[[], None] | None = None,
    ) -> Daemon:
        """`preexec` runs in the child before it starts (e.g. to set its rlimits)."""
        out = log.open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "pager", "serve"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            preexec_fn=preexec,
        )
        return cls(proc, url, log, out)

    async def wait_ready(self, within: float = 30.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"pager serve exited {self.proc.returncode}: {self.output()}")
            try:
                if (await self.request("GET", "/readyz"))[0] == 200:
                    return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"pager serve not ready within {within}s: {self.output()}")

    async def request(
        self, method: str, path: str, body: Any = None, token: str = API_TOKEN
    ) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method,
                self.url + path,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            ) as resp,
        ):
            return resp.status, await resp.text()

    async def metric(self, line_start: str) -> str | None:
        """The value of the first /metrics line starting with `line_start`."""
        _, text = await self.request("GET", "/metrics")
        for line in text.splitlines():
            if line.startswith(line_start):
                return line.rsplit(" ", 1)[1]
        return None

    def hangup(self) -> None:
        self.proc.send_signal(signal.SIGHUP)

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """kill -9, by its own PID (a no-op when it is gone already)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._out.close()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        return self.log.read_text(errors="replace")


async def eventually_metric(
    daemon: Daemon, line_start: str, value: str, within: float = 10.0
) -> None:
    async def reached() -> bool:
        return await daemon.metric(line_start) == value

    await eventually(reached, within, what=f"{line_start} == {value}")
