"""Helpers to run Stoplight Prism as a mock of Twilio's own OpenAPI document.

Prism validates each request against the spec and answers 422 when it does
not conform, so a request it accepts is one Twilio documents as valid.

The document is Twilio's published `twilio_api_v2010.json` (see
$PAGER_SHARED_DIR/twilio/README.md), patched into a temporary copy: Prism keeps
only the last of repeated form keys unless the spec gives the array an
`explode` encoding (stoplightio/prism#2473), so every array property of every
form-encoded request body gets `{"style": "form", "explode": true}`.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO / ".ci" / "install-prism.sh"
TOOLS = REPO / ".tools"
PRISM_BIN = TOOLS / "prism" / "node_modules" / ".bin" / "prism"
FORM = "application/x-www-form-urlencoded"


def shared_dir() -> Path:
    """$PAGER_SHARED_DIR, by default `../shared` next to the repository."""
    return Path(os.environ.get("PAGER_SHARED_DIR", REPO.parent / "shared"))


def twilio_spec() -> Path:
    return shared_dir() / "twilio" / "twilio_api_v2010.json"


def patch_array_encoding(spec: dict[str, Any]) -> int:
    """Adds explode encodings for form arrays in place; returns how many it added."""
    added = 0
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            body = operation.get("requestBody", {}).get("content", {}).get(FORM)
            if body is None:
                continue
            properties = body.get("schema", {}).get("properties", {})
            encoding = body.setdefault("encoding", {})
            for name, schema in properties.items():
                if schema.get("type") == "array" and name not in encoding:
                    encoding[name] = {"style": "form", "explode": True}
                    added += 1
    return added


PAGE_URIS = ("uri", "first_page_uri", "next_page_uri", "previous_page_uri")


def patch_page_uris(spec: dict[str, Any]) -> int:
    """Drops `format: uri` from list pages' relative URIs in place; returns how many."""
    dropped = 0
    for operations in spec.get("paths", {}).values():
        get = operations.get("get") if isinstance(operations, dict) else None
        content = (get or {}).get("responses", {}).get("200", {}).get("content", {})
        properties = content.get("application/json", {}).get("schema", {}).get("properties", {})
        for name in PAGE_URIS:
            if properties.get(name, {}).pop("format", None) is not None:
                dropped += 1
    return dropped


def write_patched_spec(source: Path, target: Path) -> Path:
    spec = json.loads(source.read_text(encoding="utf-8"))
    patch_array_encoding(spec)
    patch_page_uris(spec)
    target.write_text(json.dumps(spec), encoding="utf-8")
    return target


def prism_binary() -> Path:
    """The project-local prism, installed by .ci/install-prism.sh when missing."""
    if PRISM_BIN.exists():
        return PRISM_BIN
    # Two xdist workers may both find it missing: one npm install at a time into .tools/.
    TOOLS.mkdir(exist_ok=True)
    with (TOOLS / "prism-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if PRISM_BIN.exists():  # the other worker installed it meanwhile
            return PRISM_BIN
        done = subprocess.run(
            [str(INSTALL_SCRIPT)], capture_output=True, text=True, timeout=600, check=False
        )
        if done.returncode != 0 or not PRISM_BIN.exists():
            raise RuntimeError(
                f"{INSTALL_SCRIPT} failed (exit {done.returncode}); install Prism with it "
                f"and look at its output:\n{done.stdout}\n{done.stderr}"
            )
    return PRISM_BIN


def node_available() -> bool:
    return shutil.which("node") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Prism:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        """Stops this Prism (its own process group, started by `start_prism`)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_prism(spec: Path, workdir: Path, ready_within: float = 60.0) -> Prism:
    """Starts `prism mock` on a free 127.0.0.1 port and waits until it answers."""
    port = free_port()
    log = workdir / "prism.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(prism_binary()),
                "mock",
                str(spec),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "--errors",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: node children stop with it
        )
    prism = Prism(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_ready(prism, ready_within)
    except BaseException:
        prism.stop()
        raise
    return prism


def _wait_ready(prism: Prism, within: float) -> None:
    # Waiting for an external process to come up is the one place a test polls.
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if prism.process.poll() is not None:
            raise RuntimeError(f"prism exited early:\n{prism.log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(prism.url + "/", timeout=1):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer (404 here) means it is listening
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"prism not ready in {within}s:\n{prism.log.read_text(errors='replace')}")
