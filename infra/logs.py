"""JSON log lines (one object per line) on stderr, labelled with the server they come from
and, while a request is handled, with its correlation id.

`slotwise dev` runs the write and read APIs in one process: each server's
asyncio task sets SERVER, and every record logged from that task (or from the
threads and tasks it starts, which copy its context) carries it.
"""

from __future__ import annotations

import logging
import logging.config
import os
import time
from contextvars import ContextVar
from typing import Any

import orjson

from infra.web.correlation import correlation_id

SERVER: ContextVar[str | None] = ContextVar("slotwise_server", default=None)
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's terminal colours
}


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, the server, and whatever `extra=` the caller gave."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        server = getattr(record, "server", None) or SERVER.get()
        if server:
            line["server"] = server
        request = correlation_id.get()
        if request != "-":  # every line logged while a request is handled names it
            line["correlation_id"] = request
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def log_level(asked: str | None = None) -> str:
    """The level asked for, else SLOTWISE_LOG_LEVEL, else INFO (an unknown name reads as INFO)."""
    level = (asked or os.environ.get("SLOTWISE_LOG_LEVEL") or "INFO").upper()
    return level if level in LEVELS else "INFO"


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A dictConfig for our loggers and uvicorn's (which uvicorn applies in each worker)."""
    # kafka-python logs every connection and rebalance at INFO: noise unless debugging.
    kafka = level if level == "DEBUG" else max(level, "WARNING", key=LEVELS.index)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "infra.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},  # we log requests ourselves
            "kafka": {"level": kafka},
        },
    }


def configure_logging(level: str | None = None) -> None:
    logging.config.dictConfig(logging_config(log_level(level)))
