"""Running uvicorn servers for the CLI: bind first, say so only once they serve, stop together.

Binding the sockets ourselves turns a busy port into one sentence before any
server starts, and lets the banner wait until every server has started.
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

import uvicorn

from infra.lines import CommandFailed as CommandFailed
from infra.lines import say as say
from infra.logs import SERVER


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on host:port, or CommandFailed saying why not."""
    try:
        family, kind, proto, _, _ = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror:
        raise CommandFailed(f"cannot listen on {host}:{port}: unknown host {host!r}") from None
    # proto must say TCP: asyncio sets TCP_NODELAY only on sockets that do, and without it
    # Nagle's algorithm meets delayed ACKs and each keep-alive answer waits ~40 ms.
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        hint = " (is another server running there?)" if port else ""
        raise CommandFailed(f"cannot listen on {host}:{port}: {error.strerror}{hint}") from None
    sock.set_inheritable(True)
    return sock


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class GroupServer(uvicorn.Server):
    """A uvicorn server that stops its whole group on one signal, without re-raising it."""

    def __init__(self, config: uvicorn.Config, group: list[GroupServer]) -> None:
        super().__init__(config)
        self.group = group
        group.append(self)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        for server in self.group:
            server.force_exit = server.should_exit  # a second signal stops at once
            server.should_exit = True


@dataclass
class Listener:
    """One server to run: its label in the logs, its config and its bound socket."""

    name: str
    config: uvicorn.Config
    sock: socket.socket


def settle_heap() -> None:
    """Once the servers have started: collect what starting left behind, then keep what it
    built (modules, routes, the container's pools and caches) out of every later collection.

    A full collection of the roughly 160,000 objects an API process holds after starting
    took 56 ms here, and every thread waits one out: they were the slowest reads and
    writes of `bench/lag.py` (docs/benchmarks.md). Frozen objects are still freed when
    nothing refers to them; a cycle among them that later turns to garbage would stay,
    and what starting builds lives as long as the process.
    """
    gc.collect()
    gc.freeze()


async def serve_all(listeners: list[Listener], banner: Callable[[], None]) -> bool:
    """Run every server until a signal; call `banner` once all have started. False: one failed."""
    group: list[GroupServer] = []
    servers = [GroupServer(listener.config, group) for listener in listeners]

    async def run(name: str, server: GroupServer, sock: socket.socket) -> None:
        SERVER.set(name)  # labels every log line this server's tasks write
        try:
            await server.serve(sockets=[sock])
        except SystemExit:  # uvicorn's way of saying the app's startup failed
            pass
        finally:
            for other in group:
                other.should_exit = True

    tasks = [
        asyncio.create_task(run(listener.name, server, listener.sock))
        for listener, server in zip(listeners, servers, strict=True)
    ]
    while not all(server.started for server in servers):
        if any(task.done() for task in tasks):
            break
        await asyncio.sleep(0.02)
    else:
        settle_heap()
        banner()
    await asyncio.gather(*tasks)
    return all(server.started for server in servers)
