"""The command line loads a role only when it runs it: help and token stay quick."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("fastapi", "sqlalchemy", "eventsourcing", "uvicorn", "psycopg")
# What minting an HS256 token does without: verification (PyJWT, and the cryptography it
# loads) and the rate limiter's library.
NOT_FOR_A_TOKEN = ("jwt", "cryptography", "limits")
PROBE = """
import sys
from typer.testing import CliRunner
from infra.cli import app
result = CliRunner().invoke(app, {args!r})
assert result.exit_code == 0, result.output
print(",".join(m for m in {heavy!r} if m in sys.modules))
"""


def loaded_by(args: list[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    code = PROBE.format(args=args, heavy=heavy)
    env = {"SLOTWISE_JWT_SECRET": "a-test-secret-of-at-least-32-characters!"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return [m for m in done.stdout.strip().split(",") if m]


@pytest.mark.subprocess
def test_help_loads_no_web_framework_database_or_event_store() -> None:
    assert loaded_by(["--help"]) == []


@pytest.mark.subprocess
def test_minting_a_token_loads_no_web_framework_database_or_event_store() -> None:
    assert loaded_by(["token", "--sub", "ada", "--role", "customer"]) == []


@pytest.mark.subprocess
def test_minting_a_token_loads_neither_the_verifier_nor_the_rate_limiter() -> None:
    assert loaded_by(["token", "--sub", "ada", "--role", "owner"], NOT_FOR_A_TOKEN) == []
