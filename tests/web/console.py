"""What the console's tests share: a policy of named people, web config users,
and a client that signs in and posts forms as a browser would (cookies, the
CSRF token read from the page). Part 2 of the console builds on these too."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import bcrypt
from aiohttp.test_utils import TestClient

from tests.harness import Harness

PASSWORDS = {"alice": "alice-password", "bob": "bob-password"}

POLICY = """
people:
  - {id: alice, name: Alice Doe, email: alice@example.com, phone: "+15550100001",
     timezone: Europe/London, notify: [{channel: sms, after: 0s}, {channel: voice, after: 1m}]}
  - {id: bob, name: Bob Roe, email: bob@example.com, phone: "+15550100002",
     timezone: Europe/London, notify: [{channel: sms}]}
  - {id: carol, name: Carol Poe, phone: "+15550100003", notify: [{channel: sms}]}
  - {id: frank, name: Frank Loe, phone: "+15550100006", notify: [{channel: sms}]}
rotations:
  - {id: primary, timezone: Europe/London, shift: 1w, handoff: "2026-01-05T09:00",
     members: [alice, carol]}
  - {id: secondary, timezone: Europe/London, shift: 1w, handoff: "2026-01-05T09:00",
     members: [bob]}
escalation_policies:
  - id: platform
    levels:
      - {targets: [rotation:primary], ack_timeout: 5m}
      - {targets: [rotation:secondary], ack_timeout: 10m}
priorities:
  P1: {description: Customers are affected now., channels: [sms, voice],
       stakeholders: [person:frank]}
  P2: {description: Needs a person today., channels: [sms]}
rules:
  - matchers: ['severity="critical"']
    priority: P1
    escalation: platform
    runbook: https://runbooks.example.com/critical
default: {priority: P2, escalation: platform}
"""


def write_web_config(path: Path, users: dict[str, str] | None = None) -> Path:
    """A web config file with bcrypt hashes (cost 4: quick to check in tests)."""
    lines = ["basic_auth_users:"]
    for person, password in (users if users is not None else PASSWORDS).items():
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
        lines.append(f"  {person}: {hashed}")
    path.write_text("\n".join(lines) + "\n")
    return path


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found[1]


class Console:
    """The console driven over HTTP by the aiohttp test client (its cookie jar is the browser's)."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness
        self.client: TestClient[Any, Any] = harness.client

    async def page(
        self, path: str, status: int = 200, headers: dict[str, str] | None = None
    ) -> str:
        resp = await self.client.get(path, headers=headers or {}, allow_redirects=False)
        text = await resp.text()
        assert resp.status == status, f"{path}: {resp.status} {text[:500]}"
        return text

    async def sign_in(self, person: str, password: str | None = None, status: int = 303) -> Any:
        form = await self.page("/sign-in")
        data = {"csrf": csrf_of(form), "person": person, "password": password or PASSWORDS[person]}
        resp = await self.client.post("/sign-in", data=data, allow_redirects=False)
        assert resp.status == status, await resp.text()
        return resp

    async def post(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        token: bool = True,
        status: int = 303,
    ) -> Any:
        """Post a form as the page at `back` (default /) would, CSRF token included."""
        fields = {"back": "/", **(data or {})}
        if token:
            fields["csrf"] = csrf_of(await self.page(fields["back"]))
        resp = await self.client.post(path, data=fields, allow_redirects=False)
        assert resp.status == status, f"{path}: {resp.status} {(await resp.text())[:800]}"
        return resp
