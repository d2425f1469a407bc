"""A reverse proxy on 127.0.0.1 that serves an upstream under a sub-path and
strips it, as nginx's `location /pager/ { proxy_pass http://pager/; }` does.
Responses stream through (server-sent events included), bytes untouched."""

from __future__ import annotations

import aiohttp
from aiohttp import web

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class PrefixProxy:
    def __init__(self, upstream: str, prefix: str) -> None:
        self.upstream, self.prefix = upstream.rstrip("/"), prefix.rstrip("/")
        self.seen: list[tuple[str, int]] = []  # (path asked for, status answered)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> PrefixProxy:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}{self.prefix}"
        return self

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if not request.path.startswith(self.prefix + "/"):
            self.seen.append((request.path_qs, 404))
            return web.Response(status=404, text="not under the prefix")
        assert self._session is not None
        path = request.raw_path[len(self.prefix) :]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with self._session.request(
            request.method,
            self.upstream + path,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as upstream:
            self.seen.append((request.path_qs, upstream.status))
            response = web.StreamResponse(status=upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    response.headers.add(key, value)
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()
