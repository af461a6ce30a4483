"""Run the localstripe fake of Stripe's API on 127.0.0.1, keeping nothing on disk.

localstripe (GPL) is a test tool: this script runs it as a separate server
process and the project's code never imports it. Out of the box it listens
on every interface and pickles its whole store to one fixed file in the temp
directory after every write (parallel servers clobber each other, and it gets
slow); this wrapper binds 127.0.0.1 only and turns the dump off.

    python tests/payments/localstripe_server.py PORT
"""

from __future__ import annotations

import socket
import sys

from aiohttp import web
from localstripe import resources, server


def main(port: int) -> None:
    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    resources.Store.try_load_from_disk = lambda self: None  # type: ignore[method-assign]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    web.run_app(server.app, sock=sock, print=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
