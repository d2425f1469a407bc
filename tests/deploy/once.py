"""A build done once per test run, however many pytest-xdist workers need it.

A module-scoped fixture runs once in each worker that gets one of its
module's tests, so the image's venv (about a minute of pip) would be built
twice, and two `pip install .` of the work tree at once share its build/
folder. Here the first worker to ask builds into the run's common temp
folder (the parent of the workers' own) under an exclusive lock; the other
waits for it and takes the same directory. Built by the same script from
the same tree, it is the same build. Without xdist it is the session's.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

DONE = ".built"  # written last: a build that failed half-way is redone, not taken


def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temp folder the whole run shares (each xdist worker has its own below it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


def built_once(root: Path, name: str, build: Callable[[Path], None]) -> Path:
    """`root / name`, filled by `build(directory)` in whichever worker asked first
    (`root`: the run's temp folder, `run_dir`)."""
    target = root / name
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (target / DONE).exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            build(target)
            (target / DONE).touch()
    return target
