"""What `pager serve` has imported when it first answers /readyz 200 (issue 18:
start to ready ≤ 1 s): not what it does not need to be ready. The console's
pages (Jinja2), the admin API's and Twilio's webhook handlers, the client
commands are imported on their first request; Twilio's library only when it
is configured (and then once the engine has ticked); Alembic only when the
schema is not the newest (a new SQLite file is made without it); the dialect
of the other database never. And the garbage collector, paused for the start
(pager.gcpause), collects again once ready.

The real serve path, in a subprocess: the CLI's `serve`, as `python -m pager
serve` runs it, on a migrated SQLite file or PostgreSQL database; SIGUSR1
makes it write the names in sys.modules to a file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import PG_ADMIN_URL
from tests.harness import API_TOKEN
from tests.observability.daemon import free_port
from tests.polling import eventually
from tests.scratch import scratch_database

ROOT = Path(__file__).resolve().parents[2]
DRIVER = """
import gc, json, signal, sys

def dump(*_):
    with open(sys.argv[1] + ".gc", "w") as out:  # before the modules: read once they are
        json.dump({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}, out)
    with open(sys.argv[1] + ".part", "w") as out:
        json.dump(sorted(sys.modules), out)
    import os
    os.replace(sys.argv[1] + ".part", sys.argv[1])
    from aiohttp import connector  # its default client context: CA certificates read yet?

    with open(sys.argv[1] + ".ca", "w") as out:
        out.write(str(connector._SSL_CONTEXT_VERIFIED.cert_store_stats()["x509_ca"]))

signal.signal(signal.SIGUSR1, dump)
from pager.cli import main

main(["serve"])
"""
NOT_BEFORE_READY = {
    "jinja2",
    "aiohttp_jinja2",
    "aiohttp_sse",
    "bcrypt",
    "pager.web.pages",
    "pager.web.render",
    "pager.api.handlers",
    "pager.api.incidents",
    "pager.twilio_hooks.handlers",
    "twilio",
    "pager.notify.twilio",
    "alembic",
    "mako",
    "icalendar",
    "pager.commands",
}
OTHER_DIALECT = {
    "sqlite": {"sqlalchemy.dialects.postgresql", "asyncpg"},
    "postgresql": {"sqlalchemy.dialects.sqlite", "aiosqlite", "pager.store.sqlite_driver"},
}


def _env(tmp_path: Path, port: int, url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PAGER_", "TWILIO_"))}
    return {
        **clean,
        "PAGER_DATABASE_URL": url,
        "PAGER_POLICIES": str(ROOT / "policies"),
        "PAGER_LISTEN": f"127.0.0.1:{port}",
        "PAGER_API_TOKEN": API_TOKEN,
    }


async def _ready(session: aiohttp.ClientSession, url: str, proc: subprocess.Popen[bytes]) -> bool:
    assert proc.poll() is None, "pager serve exited"
    try:
        async with session.get(url + "/readyz") as resp:
            return resp.status == 200
    except aiohttp.ClientError:
        return False


def _ask_for_modules(proc: subprocess.Popen[bytes], dump: Path) -> None:
    dump.unlink(missing_ok=True)
    proc.send_signal(signal.SIGUSR1)


def _dumped(dump: Path) -> set[str] | None:
    return set(json.loads(dump.read_text())) if dump.exists() else None


async def _modules(proc: subprocess.Popen[bytes], dump: Path) -> set[str]:
    _ask_for_modules(proc, dump)
    found: set[str] = await eventually(lambda: _dumped(dump), what="the list of modules")
    return found


async def _certificates_read(proc: subprocess.Popen[bytes], dump: Path) -> bool:
    await _modules(proc, dump)  # the CA count is written right after the modules
    return _ca_count(Path(str(dump) + ".ca")) == _cas_of_a_usual_context()


def _collector(file: Path) -> dict[str, int]:
    found: dict[str, int] = json.loads(file.read_text())
    return found


def _ca_count(file: Path) -> int | None:
    return int(file.read_text()) if file.exists() else None


def _cas_of_a_usual_context() -> int:
    import ssl

    return int(ssl.create_default_context().cert_store_stats()["x509_ca"])


def _serve_migrated(
    tmp_path: Path, env: dict[str, str], dump: Path, migrated: bool = True
) -> subprocess.Popen[bytes]:
    if migrated:
        migrate = [sys.executable, "-m", "pager", "migrate"]
        subprocess.run(migrate, env=env, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    with (tmp_path / "serve.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(dump)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.terminate()
    return proc.wait(timeout=30)


async def test_ready_without_what_serving_does_not_need_and_loads_it_when_asked(tmp_path):
    port, dump = free_port(), tmp_path / "modules.json"
    env = _env(tmp_path, port, f"sqlite+aiosqlite:///{tmp_path / 'pager.db'}")
    proc = _serve_migrated(tmp_path, env, dump)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            await eventually(lambda: _ready(session, url, proc), 30, "/readyz 200")
            at_ready = await _modules(proc, dump)
            assert "pager.app" in at_ready  # the list is the daemon's
            assert sorted((NOT_BEFORE_READY | OTHER_DIALECT["sqlite"]) & at_ready) == []
            # the collector, paused for the start, collects again; what the start made is frozen
            collector = _collector(Path(str(dump) + ".gc"))
            assert collector["enabled"], "the garbage collector is still off once ready"
            assert collector["frozen"] > 50_000
            # aiohttp's CA certificates: not read at its import, but in a thread beside it
            await eventually(lambda: _certificates_read(proc, dump), what="aiohttp's CA certs")
            async with session.get(url + "/sign-in") as page:  # a console page
                assert page.status == 200
                assert (await page.text()).startswith("<!doctype html>")  # rendered by Jinja2
            headers = {"Authorization": f"Bearer {API_TOKEN}"}
            async with session.get(url + "/api/v1/incidents", headers=headers) as api:
                assert api.status == 200
            asked = await _modules(proc, dump)
        assert {"jinja2", "pager.web.pages", "pager.api.handlers"} <= asked  # loaded on demand
    finally:
        status = _stop(proc)
    assert status == 0, (tmp_path / "serve.log").read_text()


async def test_ready_on_a_new_sqlite_file_without_alembic(tmp_path):
    port, dump = free_port(), tmp_path / "modules.json"
    database = tmp_path / "new.db"
    env = _env(tmp_path, port, f"sqlite+aiosqlite:///{database}")
    proc = _serve_migrated(tmp_path, env, dump, migrated=False)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            await eventually(lambda: _ready(session, url, proc), 30, "/readyz 200")
            at_ready = await _modules(proc, dump)
    finally:
        status = _stop(proc)
    assert status == 0, (tmp_path / "serve.log").read_text()
    assert database.exists()  # the daemon made the file
    assert "pager.app" in at_ready  # the list is the daemon's
    assert sorted((NOT_BEFORE_READY | OTHER_DIALECT["sqlite"]) & at_ready) == []


@pytest.mark.postgres
async def test_ready_on_postgresql_without_sqlite(tmp_path):
    port, dump = free_port(), tmp_path / "modules.json"
    url = f"http://127.0.0.1:{port}"
    async with scratch_database(PG_ADMIN_URL, "pager_imports") as database:
        proc = _serve_migrated(tmp_path, _env(tmp_path, port, database), dump)
        try:
            async with aiohttp.ClientSession() as session:
                await eventually(lambda: _ready(session, url, proc), 30, "/readyz 200")
                at_ready = await _modules(proc, dump)
        finally:
            status = _stop(proc)
    assert status == 0, (tmp_path / "serve.log").read_text()
    assert "sqlalchemy.dialects.postgresql" in at_ready  # the list is the daemon's, on PostgreSQL
    assert sorted((NOT_BEFORE_READY | OTHER_DIALECT["postgresql"]) & at_ready) == []
