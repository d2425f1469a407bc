"""Typed settings, read from the environment (and optionally a YAML file) once.

Names and defaults are part of the contract (see README, "Settings"): each is
`PAGER_` and the field's name in upper case (`env_prefix`), except Twilio's own
`TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN`. The sources, strongest first: the
command line's flags, the environment, the `--config` file (settings_file.py).
Tokens and keys are `SecretStr`: their repr, `str()` and JSON are `**********`,
and the database URL's password is hidden from the repr and JSON, so printing or logging
the settings shows no secret; code that needs one asks `.get_secret_value()`.
Validation errors name the variable (or file:line) and what is wrong with it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from pager.failpoints import Failpoints
from pager.settings_file import SettingsError, YamlFileSource

__all__ = ["Settings", "SettingsError", "load_settings", "reveal"]

# The `--config` file of the Settings being built now (load_settings sets it for
# the duration of one construction; sources are chosen per construction).
_CONFIG_FILE: ContextVar[Path | None] = ContextVar("pager_config_file", default=None)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAGER_", extra="ignore", frozen=True)

    database_url: str = "sqlite+aiosqlite:///pager.db"
    policies: Path = Path("policies")
    listen: str = "127.0.0.1:8080"
    public_url: str | None = None
    webhook_token: SecretStr | None = None
    api_token: SecretStr | None = None
    # Twilio's own names (as its tools read them), not PAGER_'s.
    twilio_account_sid: str | None = Field(
        None, validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "twilio_account_sid")
    )
    twilio_auth_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "twilio_auth_token")
    )
    twilio_from: str | None = None
    twilio_api_url: str | None = None
    log_format: Literal["text", "json"] | None = None
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    tick_interval: float = Field(5.0, gt=0, le=60)
    send_timeout: float = Field(10.0, gt=0, le=120)
    # The web console (pager.web): who may sign in, and how long a sign-in lasts.
    web_config: Path | None = None
    auth_proxy_header: str | None = None
    auth_proxy_trusted: str | None = None
    session_key: SecretStr | None = None
    session_max_age: int = Field(7 * 24 * 3600, ge=300, le=90 * 24 * 3600)
    web_poll_interval: float = Field(1.0, gt=0, le=60)
    db_timeout: float = Field(5.0, gt=0, le=120)
    client_timeout: float = Field(10.0, gt=0, le=300)
    # Test-only crash points of the send path (pager/failpoints.py); never set it.
    failpoints: str = ""
    # What a 2xx survives on SQLite: normal (WAL) a crash of pager; full also power loss.
    sqlite_synchronous: Literal["normal", "full"] = "normal"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags, then the environment, then the `--config` file: the environment
        overrides the file (as a deployment's secrets override a baked-in file)."""
        config_file = _CONFIG_FILE.get()
        if config_file is None:
            return init_settings, env_settings
        return init_settings, env_settings, YamlFileSource(settings_cls, config_file)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, hide_password(value) if name == "database_url" else value

    @field_serializer("database_url", when_used="json")
    def _database_url_shown(self, value: str) -> str:
        return hide_password(value)  # as SecretStr's JSON is **********

    @field_validator("session_key")
    @classmethod
    def _session_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        split_listen(value)
        return value

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _synchronous(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must be an async SQLAlchemy URL: sqlite+aiosqlite:///FILE or postgresql+asyncpg://..."
            )
        return value

    @field_validator("auth_proxy_trusted")
    @classmethod
    def _cidrs(cls, value: str | None) -> str | None:
        if value is not None:
            parse_networks(value)
        return value

    @model_validator(mode="after")
    def _proxy_header_and_trusted(self) -> Settings:
        if bool(self.auth_proxy_header) != bool(self.auth_proxy_trusted):
            raise ValueError(
                "set both PAGER_AUTH_PROXY_HEADER and PAGER_AUTH_PROXY_TRUSTED (the proxy's "
                "addresses, e.g. 127.0.0.1/32), or neither"
            )
        return self

    @field_validator("failpoints")
    @classmethod
    def _failpoints(cls, value: str) -> str:
        Failpoints(value)
        return value

    @model_validator(mode="after")
    def _twilio_all_or_none(self) -> Settings:
        given = [self.twilio_account_sid, self.twilio_auth_token, self.twilio_from]
        if any(given) and not all(given):
            raise ValueError(
                "set all three of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and PAGER_TWILIO_FROM, "
                "or none"
            )
        return self

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid)

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.listen}").rstrip("/")

    @property
    def url_prefix(self) -> str:
        """The path of PAGER_PUBLIC_URL ("" or like "/pager"): the console's links start with it."""
        return urlsplit(self.effective_public_url).path.rstrip("/")

    @property
    def public_is_https(self) -> bool:
        return self.effective_public_url.startswith("https://")

    @property
    def trusted_proxies(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.auth_proxy_trusted) if self.auth_proxy_trusted else ()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def listens_on_loopback(self) -> bool:
        host, _ = split_listen(self.listen)
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """`127.0.0.1/32, 10.0.0.0/8, ::1` -> networks; a bare address is its own /32 (/128)."""
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an address or CIDR like 10.0.0.0/8") from None
    if not networks:
        raise ValueError("give at least one address or CIDR, comma-separated")
    return tuple(networks)


def split_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} must be HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]") or "0.0.0.0", int(port)


def reveal(secret: SecretStr | None) -> str:
    """A secret setting's value, for the one place that uses it ("" when unset)."""
    return secret.get_secret_value() if secret is not None else ""


def hide_password(url: str) -> str:
    """The database URL as it may be shown: its password as `***`."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL at all: nothing to hide but the whole
        return "***" if "@" in url else url


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Explicit overrides (CLI flags) win, then the environment, then the YAML file."""
    token = _CONFIG_FILE.set(config_file)
    flags = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**flags)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, _file_lines(config_file, flags))) from None
    finally:
        _CONFIG_FILE.reset(token)


def env_name(field: str) -> str:
    """The environment variable of a setting (as the README's table names it)."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"PAGER_{field.upper()}"


def _file_lines(config_file: Path | None, flags: dict[str, Any]) -> dict[str, str]:
    """field -> file:line, for the values that came from the file (no flag, no variable)."""
    if config_file is None:
        return {}
    environment = {key.upper() for key in os.environ}
    source = YamlFileSource(Settings, config_file)  # read without error already, once
    return {
        name: where
        for name, where in source.where.items()
        if name not in flags and env_name(name) not in environment
    }


def _field_of(key: str) -> str:
    """The field an error's location names: a field, or an alias of one."""
    for name in Settings.model_fields:
        if key.lower() in (name, env_name(name).lower()):
            return name
    return key


def _explain(exc: ValidationError, where: dict[str, str]) -> str:
    """One line: each bad value named by its variable (and file:line if from --config)."""
    problems = []
    for err in exc.errors():
        field = _field_of(str(err["loc"][0])) if err["loc"] else "settings"
        known = field in Settings.model_fields
        name = env_name(field) if known else field
        place = f"{where[field]}: {field}" if field in where else name
        problems.append(f"{place}: {err['msg'].removeprefix('Value error, ')}")
    return "invalid settings: " + "; ".join(problems)
