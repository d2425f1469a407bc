"""The settings' sources and secrets: flags over the environment over the
`--config` file, the file's unknown keys and bad values said with their line,
and no token, key or password in the settings' repr, a log line or the CLI's
output."""

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from pager.cli import main
from pager.settings import Settings, SettingsError, load_settings, reveal

SECRETS = {
    "PAGER_WEBHOOK_TOKEN": "hook-" + "w3bh00k-s3cr3t",
    "PAGER_API_TOKEN": "api-" + "4p1-s3cr3t",
    "PAGER_SESSION_KEY": "session-" + "k3y-s3cr3t-" * 4,
    "TWILIO_AUTH_TOKEN": "twilio-" + "4uth-s3cr3t",
}
DB_PASSWORD = "db-" + "p4ssw0rd-s3cr3t"
TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "PAGER_TWILIO_FROM": "+15005550006"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """These tests read the environment: start each from none of pager's settings."""
    for key in list(os.environ):
        if key.startswith(("PAGER_", "TWILIO_")):
            monkeypatch.delenv(key)


def _shows_a_secret(text: str) -> list[str]:
    return [s for s in [*SECRETS.values(), DB_PASSWORD] if s in text]


def test_secrets_are_secret_str_and_hidden_in_repr_str_and_json(monkeypatch):
    for key, value in {**SECRETS, **TWILIO}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PAGER_DATABASE_URL", f"postgresql+asyncpg://pager:{DB_PASSWORD}@db/pager")
    settings = load_settings()
    for name in ("webhook_token", "api_token", "session_key", "twilio_auth_token"):
        assert isinstance(getattr(settings, name), SecretStr), name
    shown = "\n".join([repr(settings), str(settings), settings.model_dump_json()])
    assert _shows_a_secret(shown) == []
    assert "pager:***@db/pager" in repr(settings)
    assert reveal(settings.api_token) == SECRETS["PAGER_API_TOKEN"]  # usable where needed
    assert settings.database_url.endswith(f":{DB_PASSWORD}@db/pager")
    assert reveal(None) == ""


def test_a_logged_settings_object_shows_no_secret(monkeypatch, caplog):
    for key, value in {**SECRETS, **TWILIO}.items():
        monkeypatch.setenv(key, value)
    with caplog.at_level(logging.INFO):
        logging.getLogger("pager.test").info("settings %s %r", load_settings(), load_settings())
    assert caplog.records
    assert _shows_a_secret(caplog.text) == []


def test_serve_debug_output_shows_no_secret(monkeypatch, tmp_path):
    """A start-up failure with --debug prints a traceback: none of it a secret."""
    env = {**SECRETS, **TWILIO, "PAGER_POLICIES": str(tmp_path / "missing")}
    env["PAGER_DATABASE_URL"] = f"postgresql+asyncpg://pager:{DB_PASSWORD}@127.0.0.1:1/pager"
    result = CliRunner().invoke(main, ["serve", "--debug"], env=env)
    assert result.exit_code != 0
    assert result.exception is not None
    shown = result.output + "".join(traceback.format_exception(result.exception))
    assert _shows_a_secret(shown) == []


def test_a_bad_secret_is_named_but_never_echoed(tmp_path):
    config = tmp_path / "pager.yaml"
    config.write_text("session_key: short-s3cr3t\n")
    with pytest.raises(SettingsError) as err:
        load_settings(config)
    assert str(err.value) == (
        f"invalid settings: {config}:1: session_key: must be at least 32 characters"
    )
    result = CliRunner().invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 1
    assert "short-s3cr3t" not in result.output


def test_the_environment_overrides_the_file_and_flags_override_both(monkeypatch, tmp_path):
    config = tmp_path / "pager.yaml"
    config.write_text(
        "listen: 127.0.0.1:9001\nwebhook_token: file-hook\napi_token: file-api\n"
        "twilio_account_sid: ACfile\ntwilio_auth_token: file-twilio\ntwilio_from: '+1500'\n"
        "TICK_INTERVAL: 7\n"
    )
    from_file = load_settings(config)
    assert (from_file.listen, from_file.tick_interval) == ("127.0.0.1:9001", 7.0)
    assert reveal(from_file.twilio_auth_token) == "file-twilio"
    monkeypatch.setenv("PAGER_WEBHOOK_TOKEN", "env-hook")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "env-twilio")  # Twilio's own name, no PAGER_
    monkeypatch.setenv("PAGER_LISTEN", "127.0.0.1:9002")
    merged = load_settings(config, listen="127.0.0.1:9003", policies=None)
    assert merged.listen == "127.0.0.1:9003"  # the flag
    assert reveal(merged.webhook_token) == "env-hook"  # the environment
    assert reveal(merged.twilio_auth_token) == "env-twilio"
    assert reveal(merged.api_token) == "file-api"  # the file, where nothing else says
    assert merged.twilio_account_sid == "ACfile"
    assert merged.policies == Path("policies")  # an unset flag is no override


def test_env_prefix_names_every_setting_but_twilios_own(monkeypatch):
    monkeypatch.setenv("PAGER_SQLITE_SYNCHRONOUS", "full")
    monkeypatch.setenv("PAGER_TWILIO_AUTH_TOKEN", "not-the-name")  # Twilio's is TWILIO_AUTH_TOKEN
    monkeypatch.setenv("WEBHOOK_TOKEN", "no-prefix")
    settings = load_settings()
    assert settings.sqlite_synchronous == "full"
    assert (settings.twilio_auth_token, settings.webhook_token) == (None, None)
    assert Settings(webhook_token="by-name").webhook_token == SecretStr("by-name")


def test_a_bad_value_from_the_environment_is_named_by_its_variable_not_the_file(
    monkeypatch, tmp_path
):
    config = tmp_path / "pager.yaml"
    config.write_text("webhook_token: t\nlisten: 127.0.0.1:9001\n")
    monkeypatch.setenv("PAGER_LISTEN", "nowhere")
    with pytest.raises(SettingsError) as err:
        load_settings(config)
    assert (
        str(err.value)
        == "invalid settings: PAGER_LISTEN: 'nowhere' must be HOST:PORT, e.g. 127.0.0.1:8080"
    )


def test_unknown_keys_are_all_named_with_their_lines(tmp_path):
    config = tmp_path / "pager.yaml"
    config.write_text("listen: 127.0.0.1:9999\ntwilio_auth_tokn: x\n\nPAGER_API_TOKEN: y\n")
    with pytest.raises(SettingsError) as err:
        load_settings(config)
    assert str(err.value) == (
        f"{config}:2: unknown setting 'twilio_auth_tokn' (did you mean twilio_auth_token?); "
        f"{config}:4: unknown setting 'PAGER_API_TOKEN' (did you mean api_token?)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "no such file"),
        ("listen: [\n", "while parsing"),
        ("", "must be a mapping of settings"),
    ],
)
def test_a_config_file_that_cannot_be_read_is_an_error(tmp_path, text, message):
    config = tmp_path / "pager.yaml"
    if text is not None:
        config.write_text(text)
    with pytest.raises(SettingsError, match=message) as err:
        load_settings(config)
    assert str(err.value).startswith(f"{config}:")
