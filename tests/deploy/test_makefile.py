"""`make run` on a fresh clone says it is installing, and shows pip's progress."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_first_install_is_announced_and_not_silent(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # as a user types it: not a sub-make of `make test` (which would print its directory)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    plan = subprocess.run(
        ["make", "-n", f"VENV={venv}", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    assert plan[0].startswith(f'echo "installing pager and its dependencies into {venv}')
    [install] = [line for line in plan if "-e '.[dev]'" in line]
    assert " -q " not in f"{install} "  # pip shows what it collects and installs
    assert plan[-1] == f"{venv}/bin/pager serve"
