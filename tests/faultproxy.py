"""A TCP proxy for fault tests: forwards to a real server until told to refuse, drop or black-hole.

It runs an asyncio loop in a thread of its own, bound to 127.0.0.1 on a free port.
Modes apply at once: `forward()` pipes bytes both ways; `refuse()` closes each new
connection as soon as it is accepted; `black_hole()` accepts, reads and never
answers (existing connections go silent too); `drop()` closes every existing
connection and leaves the mode as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, Literal

Mode = Literal["forward", "refuse", "black_hole"]


class FaultProxy:
    """127.0.0.1:`port` → `target_host`:`target_port`, with switchable faults."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = "forward"
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> FaultProxy:
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self.drop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def forward(self) -> None:
        self.mode = "forward"

    def refuse(self) -> None:
        self.mode = "refuse"

    def black_hole(self) -> None:
        self.mode = "black_hole"

    def drop(self) -> None:
        """Close every connection open now, both the client's side and the server's."""
        self._call(self._close_all())

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=5)

    async def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "refuse":
            writer.transport.abort()
            return
        self._writers.add(writer)
        if self.mode == "black_hole":
            await self._pipe(reader, None)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(upstream_writer)
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None
    ) -> None:
        """Copy until EOF; in black-hole mode whatever arrives is read and thrown away."""
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                if writer is None or self.mode == "black_hole":
                    continue
                writer.write(data)
                await writer.drain()
        if writer is not None:
            writer.transport.abort()
            self._writers.discard(writer)
