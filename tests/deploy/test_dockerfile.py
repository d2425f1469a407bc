"""The Dockerfile and .dockerignore, read statically (no Docker daemon here).

Each rule is a small function over the parsed Dockerfile, tested once on the
real file and once on a bad example it must catch, so no check passes by
being unable to fail. Building and running the image is not covered: see
deploy/entrypoint-smoke.sh for the same install outside Docker.
"""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
SECRET_WORDS = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|AUTH|CREDENTIAL|API_?KEY", re.I)
EXACT_TAG = re.compile(r"^[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$")

Instruction = dict[str, Any]


def parse(text: str) -> list[Instruction]:
    # Always through a file object: given a path (or none, meaning the
    # current directory), DockerfileParser writes `content` to that file.
    return list(DockerfileParser(fileobj=io.BytesIO(text.encode())).structure)


def stages(structure: list[Instruction]) -> list[list[Instruction]]:
    """Instructions grouped by FROM, each group starting with its FROM."""
    found: list[list[Instruction]] = []
    for ins in structure:
        if ins["instruction"] == "FROM":
            found.append([])
        if found:
            found[-1].append(ins)
    return found


def values(stage: list[Instruction], instruction: str) -> list[str]:
    return [i["value"] for i in stage if i["instruction"] == instruction]


def unpinned_bases(structure: list[Instruction]) -> list[str]:
    """Base images without an exact x.y.z tag (stage names are fine)."""
    names: set[str] = set()
    bad = []
    for value in values(structure, "FROM"):
        image, _, alias = value.partition(" AS ") if " AS " in value else value.partition(" as ")
        image = next(w for w in image.split() if not w.startswith("--"))
        if image not in names and (not EXACT_TAG.match(image) or ":latest" in image):
            bad.append(image)
        names.add(alias.strip())
    return bad


def assignments(value: str) -> dict[str, str]:
    """KEY=VALUE pairs of an ENV or ARG (also the old `ENV KEY VALUE` form)."""
    words = shlex.split(value)
    if len(words) >= 2 and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return {k: v for k, _, v in (w.partition("=") for w in words)}


def baked_secrets(structure: list[Instruction]) -> list[str]:
    """ENV/ARG names that look secret and are given a value."""
    found = []
    for ins in structure:
        if ins["instruction"] in ("ENV", "ARG"):
            for key, val in assignments(ins["value"]).items():
                if SECRET_WORDS.search(key) and val:
                    found.append(key)
    return found


def user_id(stage: list[Instruction]) -> int | None:
    """The numeric UID the stage ends running as, None if not numeric."""
    users = values(stage, "USER")
    if not users:
        return 0
    uid = users[-1].split(":")[0]
    return int(uid) if uid.isdigit() else None


@pytest.fixture(scope="module")
def structure() -> list[Instruction]:
    return parse(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def final(structure: list[Instruction]) -> list[Instruction]:
    return stages(structure)[-1]


def test_multi_stage_with_a_named_build_stage(structure: list[Instruction]) -> None:
    assert len(stages(structure)) >= 2
    assert " AS build" in values(structure, "FROM")[0]
    assert len(stages(parse("FROM python:3.11.14-slim\nRUN true\n"))) == 1


def test_bases_pinned_to_an_exact_tag(structure: list[Instruction]) -> None:
    assert unpinned_bases(structure) == []
    bad = "FROM python:latest AS a\nFROM python:3.11-slim\nFROM python\nFROM a\n"
    assert unpinned_bases(parse(bad)) == ["python:latest", "python:3.11-slim", "python"]


def test_final_stage_runs_as_a_numeric_non_root_user(final: list[Instruction]) -> None:
    uid = user_id(final)
    assert uid is not None
    assert uid > 0
    assert user_id(parse("FROM x:1.2.3\nUSER 0\n")) == 0
    assert user_id(parse("FROM x:1.2.3\n")) == 0
    assert user_id(parse("FROM x:1.2.3\nUSER pager\n")) is None


def test_uid_matches_the_chart(final: list[Instruction]) -> None:
    values_yaml = (ROOT / "helm" / "pager" / "values.yaml").read_text()
    assert f"runAsUser: {user_id(final)}" in values_yaml


def test_healthcheck_asks_healthz(final: list[Instruction]) -> None:
    (check,) = values(final, "HEALTHCHECK")
    assert "/healthz" in check
    assert "curl" not in check  # not in slim images
    assert "wget" not in check
    command = json.loads(check[check.index("CMD") + 3 :])
    assert command[:2] == ["python", "-c"]
    compile(command[2], "<healthcheck>", "exec")


def test_serves_on_8080_by_default(final: list[Instruction]) -> None:
    assert values(final, "EXPOSE") == ["8080"]
    env = {k: v for e in values(final, "ENV") for k, v in assignments(e).items()}
    assert env["PAGER_LISTEN"] == "0.0.0.0:8080"
    assert env["PAGER_POLICIES"] == "/etc/pager/policies"
    assert env["PAGER_DATABASE_URL"] == "sqlite+aiosqlite:////var/lib/pager/pager.db"
    assert any("/var/lib/pager" in v for v in values(final, "VOLUME"))


def test_entrypoint_and_stop_signal(final: list[Instruction]) -> None:
    assert [json.loads(v) for v in values(final, "ENTRYPOINT")] == [["pager"]]
    assert [json.loads(v) for v in values(final, "CMD")] == [["serve"]]
    assert values(final, "STOPSIGNAL") == ["SIGTERM"]


def test_no_secret_baked_in(structure: list[Instruction]) -> None:
    assert baked_secrets(structure) == []
    bad = (
        "FROM x:1.2.3\nENV PAGER_API_TOKEN=abc LEVEL=1\nARG TWILIO_AUTH_TOKEN\nARG DB_PASSWORD=pw\n"
    )
    assert baked_secrets(parse(bad)) == ["PAGER_API_TOKEN", "DB_PASSWORD"]
    assert baked_secrets(parse("FROM x:1.2.3\nENV PAGER_WEBHOOK_TOKEN s3cret\n")) == [
        "PAGER_WEBHOOK_TOKEN"
    ]


def test_installs_with_the_constraints_into_a_venv(structure: list[Instruction]) -> None:
    build, final = stages(structure)[0], stages(structure)[-1]
    runs = " ".join(values(build, "RUN"))
    assert "-m venv /opt/pager" in runs
    assert re.search(r"pip install -c constraints\.txt \.", runs)
    assert not any("pip install" in r for r in values(final, "RUN"))  # no build in the final stage
    assert any(v.startswith("--from=build /opt/pager") for v in values(final, "COPY"))


def test_dockerignore_keeps_local_state_out() -> None:
    lines = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git", ".pytest_cache", ".mypy_cache", "pager.db", "**/*.db", ".env"} <= lines
    assert "*" in lines  # an allowlist: everything else is out
    assert {"!pyproject.toml", "!constraints.txt", "!pager/"} <= lines


def test_smoke_script_builds_the_way_the_dockerfile_does() -> None:
    script = (ROOT / "deploy" / "entrypoint-smoke.sh").read_text()
    assert "-m venv" in script
    assert 'pip" install -q -c constraints.txt .' in script
    assert (ROOT / "deploy" / "entrypoint-smoke.sh").stat().st_mode & 0o111
