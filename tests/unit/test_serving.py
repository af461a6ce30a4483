"""A served process keeps what starting built out of later full collections."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket

import uvicorn
from fastapi import FastAPI

from infra.serving import Listener, serve_all


def test_once_every_server_started_the_startup_heap_is_frozen_before_the_banner() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(FastAPI(), log_config=None, access_log=False, lifespan="off")
    frozen_at_banner: list[int] = []

    def banner() -> None:  # then stop, as an operator's Ctrl-C does
        frozen_at_banner.append(gc.get_freeze_count())
        os.kill(os.getpid(), signal.SIGINT)

    gc.unfreeze()
    try:
        assert asyncio.run(serve_all([Listener("test", config, sock)], banner))
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
        sock.close()
    assert frozen_at_banner and frozen_at_banner[0] > 0
