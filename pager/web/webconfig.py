"""Who may sign in to the console: a web config file in the format of
Prometheus's `--web.config.file` (`basic_auth_users:` person id -> bcrypt hash).

Guarantees:
* Every problem names the file and line, all of them at once, as policy errors do.
* Keys Prometheus knows but pager does not honour (`tls_server_config`,
  `http_server_config`, `rate_limit`) are refused with the reason and the fix,
  never silently ignored: a TLS setting that did nothing would be worse.
* The file is read again when it changes, so `pager web-user add` needs no
  restart; a broken edit keeps the users last read, and says so in the log.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import yaml
from pydantic import TypeAdapter, ValidationError
from yaml.nodes import MappingNode

from pager.policy.errors import PolicyError, PolicyIssue
from pager.policy.model import Id
from pager.policy.source import key_node, line_of, node_at, read_source

log = logging.getLogger(__name__)
USERS = "basic_auth_users"
REFUSED = {
    "tls_server_config": "pager serves plain HTTP: terminate TLS at a reverse proxy or "
    "ingress and set PAGER_PUBLIC_URL to its https:// URL",
    "http_server_config": "set response headers and HTTP/2 at the reverse proxy",
    "rate_limit": "pager limits sign-in attempts itself (per address and per person)",
}
BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")
NO_USERS: Mapping[str, str] = MappingProxyType({})
_person_id = TypeAdapter(Id)
HEADER = (
    "# pager web console users, in the format of Prometheus's --web.config.file:\n"
    "# person id (from the policy) -> bcrypt hash. `pager web-user add ID` edits it.\n"
)


class WebConfigError(PolicyError):
    """The web config file is invalid; `issues` holds every problem, with its line."""


def parse_web_config(path: Path) -> Mapping[str, str]:
    """The users of a web config file (person id -> bcrypt hash)."""
    issues: list[PolicyIssue] = []
    source = read_source(path, str(path), issues)
    if source is None or issues:
        raise WebConfigError(issues)
    if source.root is None:
        return NO_USERS
    if not isinstance(source.root, MappingNode) or not isinstance(source.data, dict):
        raise WebConfigError([PolicyIssue(str(path), line_of(source.root), f"expected {USERS}:")])
    for key in source.data:
        where = line_of(key_node(source.root, str(key)) or source.root)
        if key in REFUSED:
            issues.append(PolicyIssue(str(path), where, f"{key} is not supported: {REFUSED[key]}"))
        elif key != USERS:
            message = f"unknown key {key!r} (expected {USERS})"
            issues.append(PolicyIssue(str(path), where, message))
    users = _users(path, source.root, source.data.get(USERS), issues)
    if issues:
        raise WebConfigError(issues)
    return MappingProxyType(users)


def _users(
    path: Path, root: MappingNode, data: object, issues: list[PolicyIssue]
) -> dict[str, str]:
    if data is None:
        return {}
    node = node_at(root, (USERS,))
    if not isinstance(data, dict):
        issues.append(PolicyIssue(str(path), line_of(node), f"{USERS}: expected person: hash"))
        return {}
    users = {}
    for name, hashed in data.items():
        where = line_of(node_at(node, (str(name),)))
        try:
            _person_id.validate_python(name)
        except ValidationError:
            message = f"{USERS}: {name!r} is not a person id (letters, digits, '-', '_', '.')"
            issues.append(PolicyIssue(str(path), where, message))
            continue
        if not isinstance(hashed, str) or not BCRYPT.fullmatch(hashed):
            message = (
                f"{USERS}.{name}: not a bcrypt hash ($2b$...); make one with "
                f"`pager web-user add {name}`"
            )
            issues.append(PolicyIssue(str(path), where, message))
            continue
        users[name] = hashed
    return users


class UserFile:
    """The users of PAGER_WEB_CONFIG as they are now (the file is stat-ed per sign-in)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._users: Mapping[str, str] = NO_USERS
        self._seen: tuple[int, int] | None = None  # (mtime_ns, size) last read

    def load(self) -> None:
        """Read the file at start: an invalid file stops the daemon (WebConfigError)."""
        if self.path is None:
            return
        if not self.path.exists():
            log.warning("PAGER_WEB_CONFIG %s does not exist: nobody can sign in yet", self.path)
            return
        self._seen = _stamp(self.path)
        self._users = parse_web_config(self.path)

    def users(self) -> Mapping[str, str]:
        if self.path is None:
            return NO_USERS
        stamp = _stamp(self.path) if self.path.exists() else None
        if stamp != self._seen:
            self._seen = stamp
            self._reread()
        return self._users

    def _reread(self) -> None:
        if self.path is None or self._seen is None:
            self._users = NO_USERS
            return
        try:
            self._users = parse_web_config(self.path)
        except WebConfigError as exc:
            log.error("web config not reloaded, the users read before are kept:\n%s", exc)


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def set_user(path: Path, person: str, hashed: str) -> bool:
    """Add or update one user; True if they were new. Written atomically, mode 0600."""
    users = dict(parse_web_config(path)) if path.exists() else {}
    new = person not in users
    users[person] = hashed
    text = HEADER + yaml.safe_dump({USERS: dict(sorted(users.items()))}, sort_keys=False)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return new
