"""`pager web-user add ID`: the first console user, and new passwords."""

from __future__ import annotations

import os

import bcrypt
from click.testing import CliRunner

from pager.cli import main
from pager.web.webconfig import parse_web_config
from tests.harness import write_policy
from tests.observability.test_startup_failures import one_line, pager
from tests.web.console import POLICY


def run(tmp_path, *args: str, stdin: str = "", **env: str):
    policies = write_policy(tmp_path / "policies", POLICY)
    environment = {"PAGER_POLICIES": str(policies), "PAGER_WEB_CONFIG": "", **env}
    return CliRunner().invoke(main, ["web-user", "add", *args], input=stdin, env=environment)


def test_add_with_the_password_on_stdin(tmp_path):
    path = tmp_path / "web.yml"
    result = run(
        tmp_path,
        "alice",
        "--file",
        str(path),
        "--password-stdin",
        "--cost",
        "4",
        stdin="s3cret pass\n",
    )
    assert result.exit_code == 0, result.output
    assert f"alice added to {path}" in result.output
    hashed = parse_web_config(path)["alice"]
    assert bcrypt.checkpw(b"s3cret pass", hashed.encode())
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_the_prompt_asks_twice_and_a_second_add_sets_a_new_password(tmp_path):
    path = tmp_path / "web.yml"
    first = run(tmp_path, "bob", "--cost", "4", stdin="one\none\n", PAGER_WEB_CONFIG=str(path))
    assert first.exit_code == 0, first.output
    assert first.output.count("Password for bob") == 1
    assert "Repeat for confirmation" in first.output
    again = run(tmp_path, "bob", "--cost", "4", stdin="two\ntwo\n", PAGER_WEB_CONFIG=str(path))
    assert f"bob has a new password in {path}" in again.output
    assert bcrypt.checkpw(b"two", parse_web_config(path)["bob"].encode())


def test_passwords_that_differ_are_asked_again_and_nothing_is_written(tmp_path):
    path = tmp_path / "web.yml"
    result = run(tmp_path, "bob", "--file", str(path), stdin="one\ntwo\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert not path.exists()


def test_someone_who_is_no_person_of_the_policy_is_refused(tmp_path):
    path = tmp_path / "web.yml"
    result = run(tmp_path, "zed", "--file", str(path), "--password-stdin", stdin="x\n")
    assert result.exit_code == 1
    assert "'zed' is not a person of the policy" in result.output
    assert "alice, bob, carol, frank" in result.output
    assert not path.exists()


def test_a_broken_file_is_not_overwritten(tmp_path):
    path = tmp_path / "web.yml"
    path.write_text("basic_auth_users:\n  alice: plaintext\n")
    result = run(tmp_path, "bob", "--file", str(path), "--password-stdin", stdin="x\n")
    assert result.exit_code == 1
    assert f"{path}:2: basic_auth_users.alice: not a bcrypt hash" in result.output
    assert path.read_text() == "basic_auth_users:\n  alice: plaintext\n"


def test_serve_with_an_invalid_web_config_stops_with_one_line(tmp_path):
    config = tmp_path / "web.yml"
    config.write_text("basic_auth_users: {}\ntls_server_config:\n  cert_file: x.pem\n")
    line = one_line(pager(tmp_path, "serve", PAGER_WEB_CONFIG=str(config)))
    assert line.startswith(
        f"Error: PAGER_WEB_CONFIG: the web console's users file is invalid: {config}:2: "
        "tls_server_config is not supported: pager serves plain HTTP: terminate TLS at a "
        "reverse proxy"
    )
