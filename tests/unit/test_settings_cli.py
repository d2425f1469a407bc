"""Settings are checked once with a message naming the variable; the CLI's
own guards (open network without tokens, migrate, check) behave."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pager.cli import main
from pager.settings import SettingsError, load_settings, reveal

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """These tests read the environment: start each from none of pager's settings."""
    import os

    for key in list(os.environ):
        if key.startswith(("PAGER_", "TWILIO_")):
            monkeypatch.delenv(key)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAGER_LISTEN": "8080"}, "PAGER_LISTEN: '8080' must be HOST:PORT"),
        ({"PAGER_DATABASE_URL": "sqlite:///x.db"}, "PAGER_DATABASE_URL: must be an async"),
        ({"TWILIO_ACCOUNT_SID": "AC1"}, "set all three of TWILIO_ACCOUNT_SID"),
        ({"PAGER_MAX_BODY_BYTES": "10"}, "PAGER_MAX_BODY_BYTES:"),
        ({"PAGER_LOG_FORMAT": "xml"}, "PAGER_LOG_FORMAT:"),
    ],
)
def test_bad_setting_names_the_variable(monkeypatch, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert message in str(err.value)


def test_defaults_and_config_file(monkeypatch, tmp_path):
    settings = load_settings()
    assert (settings.database_url, settings.listen) == (
        "sqlite+aiosqlite:///pager.db",
        "127.0.0.1:8080",
    )
    assert settings.effective_public_url == "http://127.0.0.1:8080"
    assert not settings.twilio_enabled
    config = tmp_path / "pager.yaml"
    config.write_text("listen: 127.0.0.1:9999\nwebhook_token: from-file\n")
    assert load_settings(config).listen == "127.0.0.1:9999"
    monkeypatch.setenv("PAGER_LISTEN", "127.0.0.1:7777")  # the environment wins over the file
    assert load_settings(config).listen == "127.0.0.1:7777"
    assert reveal(load_settings(config).webhook_token) == "from-file"


def test_serve_refuses_an_open_address_without_both_tokens(monkeypatch):
    monkeypatch.delenv("PAGER_WEBHOOK_TOKEN", raising=False)
    monkeypatch.setenv("PAGER_API_TOKEN", "x")
    result = CliRunner().invoke(main, ["serve", "--listen", "0.0.0.0:18081"])
    assert result.exit_code == 1
    assert "refusing to serve on 0.0.0.0:18081 without PAGER_WEBHOOK_TOKEN" in result.output


def test_bad_setting_stops_serve_with_the_message(monkeypatch):
    monkeypatch.setenv("PAGER_DATABASE_URL", "mysql://x")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert "PAGER_DATABASE_URL: must be an async SQLAlchemy URL" in result.output


def test_migrate_creates_the_schema(monkeypatch, tmp_path):
    db = tmp_path / "m.db"
    monkeypatch.setenv("PAGER_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    import sqlite3

    tables = {
        r[0]
        for r in sqlite3.connect(db).execute("select name from sqlite_master where type='table'")
    }
    assert {"incidents", "alerts", "incident_events", "notifications"} <= tables
    mode = sqlite3.connect(db).execute("pragma journal_mode").fetchone()[0]
    assert mode == "wal"


def test_check_exit_codes():
    good = CliRunner().invoke(main, ["check", str(ROOT / "policies")])
    assert good.exit_code == 0, good.output
    bad = CliRunner().invoke(main, ["check", str(ROOT / "policies/testdata/bad/bad_duration")])
    assert bad.exit_code == 1
    expected = (ROOT / "policies/testdata/bad/bad_duration/expected.txt").read_text().strip()
    assert expected.splitlines()[0] in bad.output


def test_an_unknown_key_in_the_config_file_is_an_error_naming_it_and_its_line(tmp_path):
    config = tmp_path / "pager.yaml"
    config.write_text("listen: 127.0.0.1:9999\n\nwebhook_tokn: secret\nAPI_TOKEN: x\n")
    with pytest.raises(SettingsError) as err:
        load_settings(config)
    assert str(err.value) == (
        f"{config}:3: unknown setting 'webhook_tokn' (did you mean webhook_token?)"
    )
    config.write_text("colour: blue\n")
    with pytest.raises(SettingsError, match=r"pager.yaml:1: unknown setting 'colour' \(known: "):
        load_settings(config)


def test_a_bad_value_in_the_config_file_names_its_line(tmp_path):
    config = tmp_path / "pager.yaml"
    config.write_text("webhook_token: t\nlisten: nowhere\n")
    with pytest.raises(SettingsError) as err:
        load_settings(config)
    assert f"{config}:2: listen: 'nowhere' must be HOST:PORT" in str(err.value)
    config.write_text("- listen\n")
    with pytest.raises(SettingsError, match="must be a mapping of settings"):
        load_settings(config)


def test_serve_with_a_misspelt_config_key_does_not_start(tmp_path):
    config = tmp_path / "pager.yaml"
    config.write_text("webhook_tokn: secret\n")
    result = CliRunner().invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 1
    assert "unknown setting 'webhook_tokn' (did you mean webhook_token?)" in result.output
