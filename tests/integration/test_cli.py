"""The `slotwise` command, run as an operator runs it: sentences instead of tracebacks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from infra.auth import verify_token
from infra.settings import DEV_JWT_SECRET

SLOTWISE = str(Path(sys.executable).with_name("slotwise"))
pytestmark = [pytest.mark.subprocess, pytest.mark.timeout(120)]


def environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")}
    return {**env, **{f"SLOTWISE_{k.upper()}": v for k, v in settings.items()}}


def run(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SLOTWISE, *args],
        cwd=cwd,
        env=environment(**settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_sentence(answer: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit code 2 and one `slotwise:` line on stderr containing `words`, no traceback."""
    assert answer.returncode == 2, (answer.returncode, answer.stderr)
    assert "Traceback" not in answer.stderr
    lines = [line for line in answer.stderr.splitlines() if line.startswith("slotwise: ")]
    assert len(lines) == 1, answer.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@contextmanager
def listening() -> Iterator[int]:
    """A port some other program is already serving on."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield int(busy.getsockname()[1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_prints_its_version(tmp_path: Path) -> None:
    answer = run("--version", cwd=tmp_path)
    assert answer.returncode == 0
    assert answer.stdout.startswith("slotwise 0.")


def test_a_missing_secret_on_postgresql_is_one_sentence(tmp_path: Path) -> None:
    answer = run("write-api", cwd=tmp_path, event_store="postgresql://postgres@127.0.0.1/test")
    assert_one_sentence(answer, "configuration error", "SLOTWISE_JWT_SECRET")


def test_a_setting_out_of_range_names_its_variable(tmp_path: Path) -> None:
    answer = run("read-api", cwd=tmp_path, max_body_bytes="12")
    assert_one_sentence(answer, "SLOTWISE_MAX_BODY_BYTES")


def test_a_broken_jwks_file_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "jwks.json").write_text("not json")
    answer = run("write-api", cwd=tmp_path, jwt_jwks_file=str(tmp_path / "jwks.json"))
    assert_one_sentence(answer, "SLOTWISE_JWT_JWKS_FILE")


def test_an_unreachable_database_is_one_sentence(tmp_path: Path) -> None:
    answer = run(
        "write-api",
        "--port",
        str(free_port()),
        cwd=tmp_path,
        event_store="postgresql://postgres@127.0.0.1:9/nothing",  # the discard port
        jwt_secret="s" * 40,
    )
    assert_one_sentence(answer, "cannot reach the database")


def test_a_busy_port_is_one_sentence_and_no_banner(tmp_path: Path) -> None:
    with listening() as busy:
        answer = run(
            "dev", "--write-port", str(free_port()), "--read-port", str(busy), cwd=tmp_path
        )
    assert_one_sentence(answer, f"127.0.0.1:{busy}", "in use")
    assert "serving" not in answer.stderr


def test_warns_when_the_development_secret_listens_beyond_loopback(tmp_path: Path) -> None:
    with listening() as busy:  # the warning comes before binding: no server needs to start
        answer = run(
            "write-api", "--host", "0.0.0.0", "--port", str(busy), cwd=tmp_path, env="development"
        )
        quiet = run("write-api", "--port", str(busy), cwd=tmp_path, env="development")
    assert "warning" in answer.stderr and "development JWT secret" in answer.stderr
    assert "warning" not in quiet.stderr
    assert_one_sentence(quiet, "in use")


UNSAFE_SECRETS = [
    pytest.param({}, "not set", id="no secret: the development one"),
    pytest.param({"jwt_secret": DEV_JWT_SECRET}, "published", id="the development secret"),
    pytest.param({"jwt_secret": "change-me-to-a-long-random-secret"}, "published", id="example"),
    pytest.param({"jwt_secret": "s" * 31}, "31 characters", id="31 characters"),
]


@pytest.mark.parametrize("api", ["write-api", "read-api"])
@pytest.mark.parametrize(("secret", "why"), UNSAFE_SECRETS)
def test_an_api_refuses_a_known_or_short_secret_outside_development(
    tmp_path: Path, api: str, secret: dict[str, str], why: str
) -> None:
    with listening() as busy:  # refused before binding: the busy port is never reached
        answer = run(api, "--port", str(busy), cwd=tmp_path, **secret)
    line = assert_one_sentence(answer, "SLOTWISE_JWT_SECRET", why, "32", "SLOTWISE_ENV=development")
    assert "in use" not in line and "serving" not in answer.stderr


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"env": "development"}, id="development, no secret"),
        pytest.param({"env": "development", "jwt_secret": "short"}, id="development, short"),
        pytest.param({"jwt_secret": "s" * 32}, id="production, 32 characters"),
    ],
)
def test_an_api_takes_a_long_secret_or_any_secret_in_development(
    tmp_path: Path, settings: dict[str, str]
) -> None:
    with listening() as busy:  # past the secret check, the API stops at the busy port
        answer = run("write-api", "--port", str(busy), cwd=tmp_path, **settings)
    assert_one_sentence(answer, "in use")


def test_the_secret_check_refuses_a_published_secret_on_postgresql(tmp_path: Path) -> None:
    answer = run(
        "write-api",
        cwd=tmp_path,
        event_store="postgresql://postgres@127.0.0.1:9/nothing",
        jwt_secret=DEV_JWT_SECRET,
    )
    assert_one_sentence(answer, "published")


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--sub", "", "--role", "customer"], "--sub"),
        (["--sub", "ann\x1b[2J", "--role", "customer"], "--sub"),
        (["--sub", "ann", "--role", "system"], "--role"),
        (["--sub", "ann", "--role", "superuser"], "--role"),
        (["--sub", "ann", "--role", "customer", "--ttl", "0"], "--ttl"),
        (["--sub", "ann", "--role", "customer", "--ttl", "-60"], "--ttl"),
        (["--sub", "ann", "--role", "customer", "--ttl", "86401"], "--ttl"),
    ],
    ids=[
        "empty sub",
        "control sub",
        "system role",
        "unknown role",
        "ttl 0",
        "negative",
        "too long",
    ],
)
def test_token_refuses_what_the_api_would_refuse(
    tmp_path: Path, args: list[str], option: str
) -> None:
    answer = run("token", *args, cwd=tmp_path)
    assert_one_sentence(answer, option)
    assert answer.stdout == ""


def test_token_mints_what_the_api_accepts(tmp_path: Path) -> None:
    answer = run("token", "--sub", "ann", "--role", "owner", "--ttl", "600", cwd=tmp_path)
    assert answer.returncode == 0, answer.stderr
    actor = verify_token(DEV_JWT_SECRET, answer.stdout.strip())
    assert (actor.id, actor.role.value) == ("ann", "owner")


def test_rebuild_elsewhere_refuses_rather_than_rebuild_an_empty_new_store(tmp_path: Path) -> None:
    answer = run("projections", "rebuild", cwd=tmp_path)
    assert_one_sentence(answer, "no event store", str(tmp_path / ".slotwise"))
    assert list(tmp_path.iterdir()) == []  # nothing was created


def wait_for_banner(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if "serving" in line:
            return
    pytest.fail(f"no banner: {''.join(lines)}")


def test_dev_shows_its_data_directory_serves_once_it_says_so_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    data, write, read = tmp_path / "data", free_port(), free_port()
    args = ["dev", "--data-dir", str(data), "--write-port", str(write), "--read-port", str(read)]
    process = subprocess.Popen(
        [SLOTWISE, *args], cwd=tmp_path, env=environment(), stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    try:
        wait_for_banner(process, lines)
        assert f"data directory: {data}" in lines[0]
        assert httpx.get(f"http://127.0.0.1:{write}/health").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{read}/v1/businesses").status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=30)
    assert process.returncode == 0, rest
    logged = [json.loads(line) for line in rest.splitlines() if line.startswith("{")]
    requests = {(e["server"], e["path"]) for e in logged if e["logger"] == "slotwise.request"}
    assert {("write", "/health"), ("read", "/v1/businesses")} <= requests
    assert (data / "events.sqlite").is_file()

    rebuilt = run("projections", "rebuild", "--data-dir", str(data), cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt" in rebuilt.stderr
