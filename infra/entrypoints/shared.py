"""What every role's entrypoint shares: settings, one-sentence failures, serving, opening a store.

Whatever goes wrong before a server is up (a setting, an unreachable
database, a busy port) is one sentence on stderr and exit code 2.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from uvicorn.importer import import_from_string

from infra.logs import configure_logging, logging_config
from infra.secret_policy import unsafe_secret
from infra.serving import CommandFailed, Listener, bind, is_loopback, say, serve_all
from infra.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from socket import socket

    from infra.bootstrap import Container

console = Console(stderr=True)
# What the command-line dispatcher uses from here.
__all__ = [
    "CommandFailed",
    "config",
    "configure_logging",
    "console",
    "describe",
    "fail",
    "first_problem",
    "load_settings",
    "metrics_endpoint",
    "open_container",
    "production_settings",
    "rebuild_progress",
    "require_event_store",
    "run_servers",
    "say",
    "sentences",
    "serve_one",
    "warn_if_exposed",
]


@contextmanager
def sentences() -> Iterator[None]:
    """Turn the failures an operator can fix into one line and exit code 2."""
    from infra.web.problems import DATABASE_UNAVAILABLE, REDIS_UNAVAILABLE

    try:
        yield
    except CommandFailed as failure:
        fail(str(failure))
    except ValidationError as error:
        fail(f"configuration error: {first_problem(error)}")
    except DATABASE_UNAVAILABLE as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        fail(f"cannot reach the database ({error.__class__.__name__}): {reason}")
    except REDIS_UNAVAILABLE as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        fail(f"cannot reach Redis (SLOTWISE_REDIS; {error.__class__.__name__}): {reason}")
    except ConfigurationError as error:  # e.g. a JWKS file that is not one
        fail(f"configuration error: {error}")


def fail(line: str) -> NoReturn:
    say(f"slotwise: {line}")
    raise typer.Exit(2)


def first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["loc"]:
        return f"SLOTWISE_{str(first['loc'][0]).upper()}: {message}"
    return message


def load_settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def describe(settings: Settings) -> str:
    """Where the data lives, passwords left out."""
    if settings.uses_postgres:
        url = urlsplit(settings.event_store_url)
        where = f"{url.hostname}:{url.port or 5432}{url.path}"
        return f"event store: PostgreSQL {url.username or 'postgres'}@{where}"
    return f"data directory: {settings.data_dir.resolve()}"


def warn_if_exposed(settings: Settings, host: str) -> None:
    if settings.development_secret_in_use and not is_loopback(host):
        say(
            f"slotwise: warning: listening on {host} with the public development JWT secret; "
            "anyone can mint tokens. Set SLOTWISE_JWT_SECRET or SLOTWISE_JWT_JWKS_URL"
        )


# Open event streams never end by themselves: a stop waits this long for them, then cuts them.
GRACEFUL_STOP_SECONDS = 3


def config(asgi_app: Any, host: str) -> uvicorn.Config:
    # Logging is ours (JSON, one line per request): uvicorn neither configures it nor logs access.
    return uvicorn.Config(
        asgi_app,
        host=host,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS,
    )


def run_servers(listeners: list[Listener], banner: Callable[[], None]) -> None:
    """Serve `listeners` on the event loop uvicorn itself would choose: uvloop, which
    uvicorn[standard] installs, as `--workers` processes and the CRUD baseline already ran."""
    loop_factory = listeners[0].config.get_loop_factory() if listeners else None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        served = runner.run(serve_all(listeners, banner))
    if not served:
        fail("a server failed to start; see the log lines above")


def serve_one(
    name: str, factory: str, host: str, port: int, workers: int, data_dir: Path | None
) -> None:
    """Serve one API: in this process (errors as sentences) or in `workers` processes."""
    from infra.bootstrap import build_write_api, read_api_process, token_verifier

    configure_logging()
    with sentences():
        settings = load_settings(data_dir)
        if data_dir is not None:  # worker processes read their settings from the environment
            os.environ["SLOTWISE_DATA_DIR"] = str(data_dir)
        say(f"slotwise {name}-api: {describe(settings)}")
        refusal = unsafe_secret(settings)
        if refusal is not None:
            raise CommandFailed(refusal)
        warn_if_exposed(settings, host)
        token_verifier(settings)  # a bad JWKS file is a sentence here, not in each worker
        sock = bind(host, port)
        if workers > 1:
            _serve_workers(name, factory, host, port, workers, sock)
            return
        container = (build_write_api if name == "write" else read_api_process)(settings)
    try:
        # The API is named, not imported: infra's import graph never reaches the APIs.
        create_app = import_from_string(factory)
        listener = Listener(name, config(create_app(container), host), sock)
        run_servers(
            [listener], lambda: say(f"slotwise {name}-api: serving on http://{host}:{port}/docs")
        )
    finally:
        container.close()


def production_settings() -> Settings:
    settings = Settings()
    if not settings.kafka:
        fail("set SLOTWISE_KAFKA to the Kafka bootstrap servers first")
    return settings


@contextmanager
def rebuild_progress(total: int) -> Iterator[Callable[[int], None]]:
    """A bar with events/s and ETA on a terminal; a line every few seconds otherwise."""
    from infra.rebuild import PlainProgress

    if not console.is_terminal:
        yield PlainProgress(total).advance
        return
    columns = (
        TextColumn("replaying events"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} events/s"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("rebuild", total=total, rate="-")

        def advance(n: int) -> None:
            progress.advance(task, n)
            speed = progress.tasks[0].speed
            progress.update(task, rate=f"{speed:,.0f}" if speed else "-")

        yield advance
        progress.update(task, completed=total)


def open_container(data_dir: Path | None, role: str = "dev") -> Container:
    """The container of an existing store (`payments`, `waitlist`: that role's only), or exit
    code 2."""
    from infra.bootstrap import bootstrap, build_payment_worker, build_waitlist_worker

    with sentences():
        settings = load_settings(data_dir)
        require_event_store(settings)
        if role == "payments":
            return build_payment_worker(settings)
        if role == "waitlist":
            return build_waitlist_worker(settings)
        return bootstrap(settings)
    raise AssertionError("sentences() exits on every failure")


def require_event_store(settings: Settings) -> None:
    """Rebuilding from a store that is not there would create an empty one and call it done."""
    if settings.uses_postgres:
        return
    path = Path(urlsplit(settings.event_store_url).path.removeprefix("/"))
    if not path.is_file():
        raise CommandFailed(
            f"no event store at {path.resolve()}; run this where the data is, "
            "or pass --data-dir (or set SLOTWISE_EVENT_STORE)"
        )


def _serve_workers(
    name: str, factory: str, host: str, port: int, workers: int, sock: socket
) -> None:
    """`workers` uvicorn processes on one socket, their metrics summed in one private directory."""
    from infra.metrics_processes import MetricsSupervisor, private_multiprocess_dir

    with private_multiprocess_dir(f"{name}-api") as directory:
        config = uvicorn.Config(
            factory,
            factory=True,
            host=host,
            workers=workers,
            log_config=logging_config(),
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS,
        )
        say(f"slotwise {name}-api: serving on http://{host}:{port} with {workers} workers")
        MetricsSupervisor(config, [sock], directory).run()


@contextmanager
def metrics_endpoint(
    container: Container, name: str, host: str, port: int | None
) -> Iterator[None]:
    """The worker's /metrics on its own port while the block runs (nothing without a port)."""
    from infra.metrics_processes import start_metrics_port

    if port is None:
        yield
        return
    try:
        chosen, stop = start_metrics_port(container.metrics.registry, host, port)
    except OSError as error:
        fail(f"cannot listen on {host}:{port} for metrics: {error.strerror}")
    say(f"slotwise {name}: metrics on http://{host}:{chosen}/metrics")
    try:
        yield
    finally:
        stop()
