"""The write-api role: commands over HTTP."""

from __future__ import annotations

from pathlib import Path

from infra.entrypoints.shared import serve_one

FACTORY = "write_api.app:create_app"


def run(host: str, port: int, workers: int, data_dir: Path | None) -> None:
    serve_one("write", FACTORY, host, port, workers, data_dir)
