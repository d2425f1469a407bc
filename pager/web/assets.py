"""The console's static files, served under a content hash.

At start every file of `static/` that a browser loads (.js, .css, .svg) is
read, hashed (sha256) and given the URL `/static/<stem>.<hash10><suffix>`,
e.g. `/static/htmx.min.3f9a1c2b7d.js`. A changed file gets a new URL, so the
files can be cached for a year (`immutable`) and a deploy never mixes old
and new. Nothing is fetched at run time; the vendored files are listed with
their versions, licences and hashes in `static/VENDOR.md`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
CACHE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    name: str  # as templates ask for it: "htmx.min.js"
    served_as: str  # "htmx.min.3f9a1c2b7d.js"
    content_type: str
    body: bytes
    sha256: str


class Assets:
    def __init__(self, directory: Path = STATIC) -> None:
        self.by_name: dict[str, Asset] = {}
        self.by_served: dict[str, Asset] = {}
        for path in sorted(directory.iterdir()):
            if path.suffix in TYPES and path.is_file():
                self._add(path)

    def _add(self, path: Path) -> None:
        body = path.read_bytes()
        digest = hashlib.sha256(body).hexdigest()
        stem = path.name.removesuffix(path.suffix)
        asset = Asset(
            path.name, f"{stem}.{digest[:10]}{path.suffix}", TYPES[path.suffix], body, digest
        )
        self.by_name[asset.name] = asset
        self.by_served[asset.served_as] = asset

    def url_path(self, name: str) -> str:
        """`/static/htmx.min.3f9a1c2b7d.js` for `htmx.min.js` (KeyError if there is none)."""
        return f"/static/{self.by_name[name].served_as}"

    async def serve(self, request: web.Request) -> web.StreamResponse:
        asset = self.by_served.get(request.match_info["name"])
        if asset is None:
            raise web.HTTPNotFound(reason="no such file (its name carries the hash of its content)")
        etag = f'"{asset.sha256[:32]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag, "Cache-Control": CACHE})
        response = web.Response(
            body=asset.body,
            content_type=asset.content_type,
            charset="utf-8" if asset.content_type.startswith("text/") else None,
            headers={"Cache-Control": CACHE, "ETag": etag, "X-Content-Type-Options": "nosniff"},
        )
        response.enable_compression()
        return response
