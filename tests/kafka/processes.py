"""`slotwise relay` and `slotwise project` as real processes, to SIGKILL and restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a process read these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")}
    for name, value in settings.model_dump().items():
        if value not in ("", None):
            env[f"SLOTWISE_{name.upper()}"] = str(value)
    return env


class Process:
    """One `slotwise` command; `kill()` is SIGKILL, `terminate()` SIGTERM; restartable."""

    def __init__(self, args: list[str], settings: Settings, log: Path) -> None:
        self.args, self.env, self.log = args, settings_env(settings), log
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "infra.cli", *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def terminate(self, timeout: float = 30) -> int:
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGTERM)
        return self.popen.wait(timeout=timeout)
