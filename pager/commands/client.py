"""A small client for the admin API, used by the CLI commands that talk to a
running daemon (`PAGER_URL`, `PAGER_API_TOKEN`)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from importlib.metadata import version
from typing import Any

from pager.core.via import CLI_USER_AGENT

USER_AGENT = f"{CLI_USER_AGENT}{version('pager')}"  # recorded as `via: cli`


class ClientError(Exception):
    """The daemon said no, or could not be reached; the message says which."""


class Client:
    def __init__(self, url: str, token: str | None, timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def get(self, path: str, **query: str | None) -> Any:
        params = {k: v for k, v in query.items() if v is not None}
        suffix = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self._call("GET", path + suffix, None)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("POST", path, body or {})

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("PATCH", path, body)

    def text(self, path: str) -> str:
        return str(self._call("GET", path, None, raw=True))

    def _call(self, method: str, path: str, body: dict[str, Any] | None, raw: bool = False) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("User-Agent", USER_AGENT)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read().decode()
        except urllib.error.HTTPError as exc:
            raise ClientError(f"{exc.code}: {_error_of(exc.read().decode())}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise ClientError(f"cannot reach pager at {self.url}: {exc}") from None
        return payload if raw else json.loads(payload)


def _error_of(text: str) -> str:
    try:
        return str(json.loads(text)["error"])
    except (ValueError, KeyError, TypeError):
        return text.strip() or "error"
