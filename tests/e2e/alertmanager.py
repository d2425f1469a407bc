"""Drive the real Prometheus Alertmanager from ../shared/alertmanager."""

from __future__ import annotations

import asyncio
import os
import subprocess
from typing import Any

from tests.conftest import SHARED

TOOLS = SHARED / "alertmanager"


async def run(*cmd: Any, env: dict[str, str] | None = None) -> str:
    proc = await asyncio.to_thread(
        subprocess.run, [str(c) for c in cmd], env=env, capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        raise AssertionError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


class Alertmanager:
    def __init__(self, env: dict[str, str]) -> None:
        self.url, self.dir = env["ALERTMANAGER_URL"], env["ALERTMANAGER_DIR"]

    @classmethod
    async def start(cls, webhook_url: str, token: str, *extra: str) -> Alertmanager:
        env = {**os.environ, "AM_WEBHOOK_BEARER_TOKEN": token}
        out = await run(TOOLS / "run-alertmanager.sh", *extra, webhook_url, env=env)
        return cls(dict(line.split("=", 1) for line in out.splitlines() if "=" in line))

    async def fire(self, *labels: str, summary: str = "", resolve: bool = False) -> str:
        args: list[Any] = [TOOLS / "fire.sh", "--am", self.url, *labels]
        if summary:
            args += ["-a", f"summary={summary}"]
        if resolve:
            args.append("--resolve")
        return (await run(*args)).strip()

    def config(self) -> str:
        with open(os.path.join(self.dir, "alertmanager.yml")) as f:
            return f.read()

    async def stop(self) -> None:
        await run(TOOLS / "stop-alertmanager.sh", "--rm", self.dir)
