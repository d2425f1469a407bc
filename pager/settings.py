"""Typed settings, read from the environment (and optionally a YAML file) once.

Names and defaults are part of the contract (see README, "Settings").
Validation errors name the variable and what is wrong with it.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from yaml.nodes import MappingNode

from pager.failpoints import Failpoints


class SettingsError(Exception):
    """A bad setting, said for a person."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    database_url: str = Field(
        "sqlite+aiosqlite:///pager.db",
        validation_alias=AliasChoices("PAGER_DATABASE_URL", "database_url"),
    )
    policies: Path = Field(
        Path("policies"), validation_alias=AliasChoices("PAGER_POLICIES", "policies")
    )
    listen: str = Field("127.0.0.1:8080", validation_alias=AliasChoices("PAGER_LISTEN", "listen"))
    public_url: str | None = Field(
        None, validation_alias=AliasChoices("PAGER_PUBLIC_URL", "public_url")
    )
    webhook_token: str | None = Field(
        None, validation_alias=AliasChoices("PAGER_WEBHOOK_TOKEN", "webhook_token")
    )
    api_token: str | None = Field(
        None, validation_alias=AliasChoices("PAGER_API_TOKEN", "api_token")
    )
    twilio_account_sid: str | None = Field(
        None, validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "twilio_account_sid")
    )
    twilio_auth_token: str | None = Field(
        None, validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "twilio_auth_token")
    )
    twilio_from: str | None = Field(
        None, validation_alias=AliasChoices("PAGER_TWILIO_FROM", "twilio_from")
    )
    twilio_api_url: str | None = Field(
        None, validation_alias=AliasChoices("PAGER_TWILIO_API_URL", "twilio_api_url")
    )
    log_format: Literal["text", "json"] | None = Field(
        None, validation_alias=AliasChoices("PAGER_LOG_FORMAT", "log_format")
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        validation_alias=AliasChoices("PAGER_MAX_BODY_BYTES", "max_body_bytes"),
    )
    tick_interval: float = Field(
        5.0, gt=0, le=60, validation_alias=AliasChoices("PAGER_TICK_INTERVAL", "tick_interval")
    )
    send_timeout: float = Field(
        10.0, gt=0, le=120, validation_alias=AliasChoices("PAGER_SEND_TIMEOUT", "send_timeout")
    )
    # The web console (pager.web): who may sign in, and how long a sign-in lasts.
    web_config: Path | None = Field(
        None, validation_alias=AliasChoices("PAGER_WEB_CONFIG", "web_config")
    )
    auth_proxy_header: str | None = Field(
        None, validation_alias=AliasChoices("PAGER_AUTH_PROXY_HEADER", "auth_proxy_header")
    )
    auth_proxy_trusted: str | None = Field(
        None, validation_alias=AliasChoices("PAGER_AUTH_PROXY_TRUSTED", "auth_proxy_trusted")
    )
    session_key: str | None = Field(
        None,
        min_length=32,
        validation_alias=AliasChoices("PAGER_SESSION_KEY", "session_key"),
    )
    session_max_age: int = Field(
        7 * 24 * 3600,
        ge=300,
        le=90 * 24 * 3600,
        validation_alias=AliasChoices("PAGER_SESSION_MAX_AGE", "session_max_age"),
    )
    web_poll_interval: float = Field(
        1.0,
        gt=0,
        le=60,
        validation_alias=AliasChoices("PAGER_WEB_POLL_INTERVAL", "web_poll_interval"),
    )
    db_timeout: float = Field(
        5.0, gt=0, le=120, validation_alias=AliasChoices("PAGER_DB_TIMEOUT", "db_timeout")
    )
    client_timeout: float = Field(
        10.0,
        gt=0,
        le=300,
        validation_alias=AliasChoices("PAGER_CLIENT_TIMEOUT", "client_timeout"),
    )
    # Test-only crash points of the send path (pager/failpoints.py); never set it.
    failpoints: str = Field("", validation_alias=AliasChoices("PAGER_FAILPOINTS", "failpoints"))
    # What a 2xx survives on SQLite: normal (WAL) a crash of pager; full also power loss.
    sqlite_synchronous: Literal["normal", "full"] = Field(
        "normal",
        validation_alias=AliasChoices("PAGER_SQLITE_SYNCHRONOUS", "sqlite_synchronous"),
    )

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


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Explicit overrides (CLI flags) win, then the environment, then the YAML file."""
    found = read_config(config_file) if config_file is not None else {}
    values = {name: value for name, (value, _) in found.items()}
    for name, field in Settings.model_fields.items():  # the environment wins over the file
        alias = field.validation_alias
        if isinstance(alias, AliasChoices) and str(alias.choices[0]) in os.environ:
            values.pop(name, None)
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        where = {name: where for name, (_, where) in found.items() if name in values}
        raise SettingsError(_explain(exc, where)) from None


def read_config(path: Path) -> dict[str, tuple[Any, str]]:
    """The settings of a `--config` file: name -> (value, "file:line"). Keys are the
    settings' names, any case; an unknown key is an error naming it and its line."""
    try:
        loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else {}
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"{path}: {' '.join(str(exc).split())}") from None
    if not isinstance(root, MappingNode) or not isinstance(data, dict):
        raise SettingsError(f"{path}: must be a mapping of settings, like `listen: 127.0.0.1:8080`")
    found: dict[str, tuple[Any, str]] = {}
    unknown = []
    for key, _ in root.value:
        where = f"{path}:{key.start_mark.line + 1}"
        name = str(key.value).lower()
        if name in Settings.model_fields:
            found[name] = (data[key.value], where)
        else:
            unknown.append(f"{where}: unknown setting {key.value!r}{_did_you_mean(name)}")
    if unknown:
        raise SettingsError("; ".join(unknown))
    return found


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, Settings.model_fields, n=1)
    return (
        f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(Settings.model_fields)})"
    )


def _explain(exc: ValidationError, where: dict[str, str]) -> str:
    """One line: each bad value named by its variable (and file:line if from --config)."""
    problems = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "settings"
        alias = (
            Settings.model_fields[field].validation_alias
            if field in Settings.model_fields
            else None
        )
        name = alias.choices[0] if isinstance(alias, AliasChoices) else field
        place = f"{where[field]}: {field}" if field in where else name
        problems.append(f"{place}: {err['msg'].removeprefix('Value error, ')}")
    return "invalid settings: " + "; ".join(problems)
