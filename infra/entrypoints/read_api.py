"""The read-api role: queries over the read models (and, embedded, their delivery)."""

from __future__ import annotations

from pathlib import Path

from infra.entrypoints.shared import serve_one

FACTORY = "read_api.app:create_app"


def run(host: str, port: int, workers: int, data_dir: Path | None) -> None:
    serve_one("read", FACTORY, host, port, workers, data_dir)
