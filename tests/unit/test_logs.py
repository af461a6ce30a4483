"""Log levels: kafka-python's chatter stays at WARNING unless someone is debugging."""

from __future__ import annotations

import logging
import logging.config

import pytest

from infra.logs import log_level, logging_config


def kafka_logs_info(level: str) -> bool:
    loggers = logging_config(level)["loggers"]
    logging.config.dictConfig({"version": 1, "incremental": True, "loggers": loggers})
    try:
        return logging.getLogger("kafka.conn").isEnabledFor(logging.INFO)
    finally:
        logging.getLogger("kafka").setLevel(logging.NOTSET)


def test_kafka_python_info_lines_are_quiet_at_the_default_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SLOTWISE_LOG_LEVEL", raising=False)
    assert log_level() == "INFO"
    assert not kafka_logs_info(log_level())


def test_debugging_turns_kafka_python_logs_back_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOTWISE_LOG_LEVEL", "debug")
    assert log_level() == "DEBUG"
    assert kafka_logs_info(log_level())
    assert log_level("warning") == "WARNING"  # --log-level wins over the environment
    assert logging_config("ERROR")["loggers"]["kafka"]["level"] == "ERROR"
