"""The web config file (Prometheus's --web.config.file format) and bcrypt checks."""

from __future__ import annotations

import os
from pathlib import Path

import bcrypt
import pytest

from pager.web.passwords import PasswordError, check_password, hash_password
from pager.web.webconfig import UserFile, WebConfigError, parse_web_config, set_user

HASH = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "web.yml"
    path.write_text(text)
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(WebConfigError) as caught:
        parse_web_config(path)
    return [str(issue) for issue in caught.value.issues]


def test_users_are_person_ids_with_bcrypt_hashes(tmp_path):
    path = write(tmp_path, f"basic_auth_users:\n  alice: {HASH}\n  bob: '{HASH}'\n")
    assert dict(parse_web_config(path)) == {"alice": HASH, "bob": HASH}


def test_an_empty_file_has_no_users(tmp_path):
    assert dict(parse_web_config(write(tmp_path, "# nobody yet\n"))) == {}


def test_unknown_keys_name_the_file_and_line(tmp_path):
    path = write(tmp_path, f"basic_auth_users:\n  alice: {HASH}\nbasic_auth_user:\n  bob: x\n")
    assert errors(path) == [f"{path}:3: unknown key 'basic_auth_user' (expected basic_auth_users)"]


def test_tls_and_server_settings_are_refused_with_the_fix(tmp_path):
    path = write(
        tmp_path,
        "tls_server_config:\n  cert_file: c.pem\nhttp_server_config:\n  http2: true\n",
    )
    found = errors(path)
    assert found[0].startswith(f"{path}:1: tls_server_config is not supported: pager serves plain")
    assert "terminate TLS at a reverse proxy" in found[0]
    assert found[1].startswith(f"{path}:3: http_server_config is not supported")


def test_a_value_that_is_no_bcrypt_hash_is_an_error_at_its_line(tmp_path):
    path = write(tmp_path, f"basic_auth_users:\n  alice: {HASH}\n  bob: hunter2\n")
    assert errors(path) == [
        f"{path}:3: basic_auth_users.bob: not a bcrypt hash ($2b$...); "
        "make one with `pager web-user add bob`"
    ]


def test_a_user_name_must_be_a_person_id(tmp_path):
    path = write(tmp_path, f"basic_auth_users:\n  'alice doe': {HASH}\n")
    assert "is not a person id" in errors(path)[0]


def test_broken_yaml_and_repeated_keys(tmp_path):
    assert "invalid YAML" in errors(write(tmp_path, "basic_auth_users: [\n"))[0]
    path = write(tmp_path, f"basic_auth_users:\n  alice: {HASH}\n  alice: {HASH}\n")
    assert "duplicate key 'alice'" in errors(path)[0]


async def test_bcrypt_check():
    hashed = hash_password("correct horse", cost=4)
    assert await check_password(hashed, "correct horse")
    assert not await check_password(hashed, "Correct horse")
    assert not await check_password(hashed, "")
    assert not await check_password(None, "correct horse")  # nobody by that name


async def test_passwords_bcrypt_cannot_hold_are_refused():
    with pytest.raises(PasswordError, match="72 bytes"):
        hash_password("x" * 73, cost=4)
    with pytest.raises(PasswordError, match="empty"):
        hash_password("", cost=4)
    assert not await check_password(hash_password("x" * 72, cost=4), "x" * 73)


def test_set_user_adds_updates_and_keeps_the_file_private(tmp_path):
    path = tmp_path / "web.yml"
    assert set_user(path, "alice", HASH)
    assert os.stat(path).st_mode & 0o777 == 0o600
    other = bcrypt.hashpw(b"new", bcrypt.gensalt(4)).decode()
    assert set_user(path, "bob", HASH)
    assert not set_user(path, "alice", other)
    assert dict(parse_web_config(path)) == {"alice": other, "bob": HASH}


def test_the_user_file_is_read_again_when_it_changes_and_a_broken_edit_keeps_the_last(tmp_path):
    path = write(tmp_path, f"basic_auth_users:\n  alice: {HASH}\n")
    users = UserFile(path)
    users.load()
    assert set(users.users()) == {"alice"}
    set_user(path, "bob", HASH)
    assert set(users.users()) == {"alice", "bob"}
    path.write_text("basic_auth_users: [broken\n")
    assert set(users.users()) == {"alice", "bob"}


def test_a_missing_file_means_nobody_can_sign_in_yet(tmp_path):
    users = UserFile(tmp_path / "none.yml")
    users.load()
    assert dict(users.users()) == {}
    set_user(tmp_path / "none.yml", "alice", HASH)
    assert set(users.users()) == {"alice"}
