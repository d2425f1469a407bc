"""A TCP proxy on 127.0.0.1 that can be cut or black-holed: a database that goes
away, for real.

`cut()` drops every connection and refuses new ones (the server is down: the
client learns at once). `black_hole()` keeps every connection open and accepts
new ones but forwards nothing, like a network that drops packets: the client
learns only from its own timeouts. `restore()` ends either; bytes held back
while black-holed are then delivered, as TCP retransmission would.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.up = True

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        self._writers.add(writer)
        await self._flowing.wait()  # black-holed: the handshake never gets through
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.close()

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        self.up = False
        self._flowing.set()  # let black-holed handlers see the cut and end
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    def black_hole(self) -> None:
        """Keep connections open but let nothing through, in either direction."""
        self._flowing.clear()

    def restore(self) -> None:
        self.up = True
        self._flowing.set()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
