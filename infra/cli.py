"""The `slotwise` command line (typer).

Whatever goes wrong before a server is up (a setting, an unreachable
database, a busy port) is one sentence on stderr and exit code 2.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
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

from infra.audit.cli import audit_app
from infra.auth import TokenPolicy, issue_token, require_issuable
from infra.logs import configure_logging, logging_config
from infra.secret_policy import unsafe_secret
from infra.serving import CommandFailed, Listener, bind, is_loopback, say, serve_all
from infra.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from socket import socket

    from infra.bootstrap import Container

app = typer.Typer(help="SlotWise: event-sourced appointment booking.", no_args_is_help=True)
projections_app = typer.Typer(help="Read-model maintenance.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
dead_letters_app = typer.Typer(
    help="Events a consumer could not apply, and those held behind them.", no_args_is_help=True
)
projections_app.add_typer(dead_letters_app, name="dead-letters")
payments_app = typer.Typer(help="Online payment through Stripe.", no_args_is_help=True)
app.add_typer(payments_app, name="payments")
app.add_typer(audit_app, name="audit")
customers_app = typer.Typer(help="A customer's personal data.", no_args_is_help=True)
app.add_typer(customers_app, name="customers")
console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="where the SQLite files live (default: $SLOTWISE_DATA_DIR or ./.slotwise)",
    ),
]
Host = Annotated[str, typer.Option(help="address to listen on")]
MetricsPort = Annotated[
    int | None,
    typer.Option(help="serve Prometheus metrics at http://HOST:PORT/metrics (default: off)"),
]
MetricsHost = Annotated[str, typer.Option(help="address the metrics port listens on")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slotwise {installed_version('slotwise')}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """SlotWise: event-sourced appointment booking."""
    # Before prometheus_client is imported: an inherited directory would mix another
    # server's files into our totals. `--workers N` sets a private one of its own.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


@contextmanager
def sentences() -> Iterator[None]:
    """Turn the failures an operator can fix into one line and exit code 2."""
    from infra.web.problems import DATABASE_UNAVAILABLE, REDIS_UNAVAILABLE

    try:
        yield
    except CommandFailed as failure:
        _fail(str(failure))
    except ValidationError as error:
        _fail(f"configuration error: {_first_problem(error)}")
    except DATABASE_UNAVAILABLE as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        _fail(f"cannot reach the database ({error.__class__.__name__}): {reason}")
    except REDIS_UNAVAILABLE as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        _fail(f"cannot reach Redis (SLOTWISE_REDIS; {error.__class__.__name__}): {reason}")
    except ConfigurationError as error:  # e.g. a JWKS file that is not one
        _fail(f"configuration error: {error}")


def _fail(line: str) -> NoReturn:
    say(f"slotwise: {line}")
    raise typer.Exit(2)


def _first_problem(error: ValidationError) -> str:
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


@app.command()
def dev(
    data_dir: DataDir = None,
    write_port: int = 8000,
    read_port: int = 8001,
    host: Host = "127.0.0.1",
    demo: Annotated[bool, typer.Option(help="load sample businesses and bookings")] = False,
) -> None:
    """Run the embedded stack in one process: write API, read API and projectors."""
    from infra.bootstrap import bootstrap
    from infra.demo import load_demo
    from read_api.app import create_app as create_read_app
    from write_api.app import create_app as create_write_app

    configure_logging()
    with sentences():
        settings = load_settings(data_dir)
        say(f"slotwise dev: {describe(settings)}")
        warn_if_exposed(settings, host)
        sockets = [bind(host, write_port), bind(host, read_port)]
        container = bootstrap(settings)
    try:
        if demo and load_demo(container.app):
            say("slotwise dev: demo data loaded (businesses studio-nord and kolkata-courts)")
        listeners = [
            Listener("write", _config(create_write_app(container), host), sockets[0]),
            Listener("read", _config(create_read_app(container), host), sockets[1]),
        ]
        banner = (
            f"slotwise dev: serving the write API on http://{host}:{write_port}/docs "
            f"and the read API on http://{host}:{read_port}/docs (Ctrl+C stops)"
        )
        _run(listeners, lambda: say(banner))
    finally:
        container.close()


# Open event streams never end by themselves: a stop waits this long for them, then cuts them.
GRACEFUL_STOP_SECONDS = 3


def _config(asgi_app: Any, host: str) -> uvicorn.Config:
    # Logging is ours (JSON, one line per request): uvicorn neither configures it nor logs access.
    return uvicorn.Config(
        asgi_app,
        host=host,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS,
    )


def _run(listeners: list[Listener], banner: Callable[[], None]) -> None:
    if not asyncio.run(serve_all(listeners, banner)):
        _fail("a server failed to start; see the log lines above")


def _serve_one(
    name: str, factory: str, host: str, port: int, workers: int, data_dir: Path | None
) -> None:
    """Serve one API: in this process (errors as sentences) or in `workers` processes."""
    from infra.bootstrap import bootstrap, token_verifier

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
        container = bootstrap(settings)
    try:
        module = __import__(factory.split(":")[0], fromlist=["create_app"])
        listener = Listener(name, _config(module.create_app(container), host), sock)
        _run([listener], lambda: say(f"slotwise {name}-api: serving on http://{host}:{port}/docs"))
    finally:
        container.close()


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
        _fail(f"cannot listen on {host}:{port} for metrics: {error.strerror}")
    say(f"slotwise {name}: metrics on http://{host}:{chosen}/metrics")
    try:
        yield
    finally:
        stop()


@app.command("write-api")
def write_api(
    host: Host = "127.0.0.1", port: int = 8000, workers: int = 1, data_dir: DataDir = None
) -> None:
    """Serve the write API, configured from the environment."""
    _serve_one("write", "write_api.app:create_app", host, port, workers, data_dir)


@app.command("read-api")
def read_api(
    host: Host = "127.0.0.1", port: int = 8001, workers: int = 1, data_dir: DataDir = None
) -> None:
    """Serve the read API (and, without Kafka, the projector follower)."""
    _serve_one("read", "read_api.app:create_app", host, port, workers, data_dir)


LogLevel = Annotated[
    str | None,
    typer.Option(
        help="debug, info, warning or error (default SLOTWISE_LOG_LEVEL, else info); "
        "kafka-python logs below WARNING only at debug"
    ),
]


@app.command()
def relay(
    log_level: LogLevel = None,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Publish the event log to Kafka (one leader at a time; SIGTERM drains and exits)."""
    from infra.bootstrap import bootstrap
    from infra.kafka.processes import build_relay, run_until_signalled

    configure_logging(log_level)
    with sentences():
        settings = _production_settings()
        say(f"slotwise relay: {describe(settings)}; Kafka {settings.kafka}")
        container = bootstrap(settings)
    try:
        with metrics_endpoint(container, "relay", metrics_host, metrics_port):
            run_until_signalled(build_relay(container))
    finally:
        container.close()


@app.command()
def project(
    name: Annotated[
        list[str] | None, typer.Option(help="only this projector (repeatable); default all")
    ] = None,
    log_level: LogLevel = None,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Run a projector worker: a Kafka consumer group member feeding the read models."""
    from infra.bootstrap import bootstrap
    from infra.kafka.processes import build_worker, run_until_signalled

    configure_logging(log_level)
    with sentences():
        settings = _production_settings()
        say(f"slotwise project: {describe(settings)}; Kafka {settings.kafka}")
        container = bootstrap(settings)
    try:
        try:
            worker = build_worker(container, name or [])
        except KeyError as error:
            _fail(str(error.args[0]))
        with metrics_endpoint(container, "project", metrics_host, metrics_port):
            run_until_signalled(worker)
    finally:
        container.close()


def _production_settings() -> Settings:
    settings = Settings()
    if not settings.kafka:
        _fail("set SLOTWISE_KAFKA to the Kafka bootstrap servers first")
    return settings


contract_app = typer.Typer(help="The contract for analytics consumers.", no_args_is_help=True)
app.add_typer(contract_app, name="contract")


@contract_app.command("generate")
def contract_generate(
    docs: Annotated[Path, typer.Option(help="where asyncapi.yaml and schemas/ go")] = Path("docs"),
    check: Annotated[bool, typer.Option(help="only report drift; exit 1 if any")] = False,
) -> None:
    """Write the AsyncAPI 3.0 document and a JSON Schema per public event type."""
    from infra.contract.generate import drifted, write

    if check:
        stale = drifted(docs)
        for path in stale:
            say(f"slotwise: out of date: {docs / path}")
        raise typer.Exit(1 if stale else 0)
    written = write(docs)
    say(f"wrote {len(written)} files under {docs}")


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="the subject (user id)")],
    role: Annotated[str, typer.Option(help="customer, owner, admin or auditor")],
    ttl: Annotated[int, typer.Option(help="seconds until it expires")] = 3600,
    data_dir: DataDir = None,
) -> None:
    """Print a signed HS256 bearer token (development and scripts)."""
    from domain.actor import Role
    from domain.errors import InvalidInput

    with sentences():
        settings = load_settings(data_dir)
        policy = TokenPolicy(max_lifetime_seconds=settings.jwt_max_lifetime_seconds)
        try:
            require_issuable(sub, role, ttl, policy)
        except InvalidInput as refused:
            raise CommandFailed(f"--{refused.field}: {refused.detail}") from None
        if not settings.jwt_key:
            raise CommandFailed(
                "tokens come from the identity provider here (SLOTWISE_JWT_JWKS_*); "
                "set SLOTWISE_JWT_SECRET to mint HS256 tokens"
            )
        typer.echo(issue_token(settings.jwt_key, sub, Role(role), ttl))


@app.command()
def backup(
    out: Annotated[Path, typer.Argument(help="the backup file to write (must not exist)")],
    data_dir: DataDir = None,
) -> None:
    """Back up the event store (pg_dump of its schema, or SQLite's online backup)."""
    from infra.backup import BackupFailed
    from infra.backup import backup as back_up

    with sentences():
        settings = load_settings(data_dir)
        try:
            what = back_up(settings, out)
        except BackupFailed as error:
            _fail(str(error))
        say(f"backed up {what} to {out}")


@app.command()
def restore(
    backup_file: Annotated[Path, typer.Argument(help="a file written by `slotwise backup`")],
    data_dir: DataDir = None,
) -> None:
    """Restore the event store into an empty place; then run `slotwise projections rebuild`."""
    from infra.backup import BackupFailed
    from infra.backup import restore as restore_store

    with sentences():
        settings = load_settings(data_dir)
        try:
            what = restore_store(settings, backup_file)
        except BackupFailed as error:
            _fail(str(error))
        say(f"restored {backup_file} into {what}; now run: slotwise projections rebuild")


@projections_app.command("rebuild")
def rebuild(
    name: Annotated[str | None, typer.Option(help="one projector; default all")] = None,
    until: Annotated[
        str | None,
        typer.Option(help="as the read models stood at this time (ISO 8601 with an offset)"),
    ] = None,
    until_position: Annotated[
        int | None, typer.Option(min=0, help="as the read models stood at this log position")
    ] = None,
    read_db: Annotated[
        str | None,
        typer.Option(help="build into this read database (required with --until*)"),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Rebuild read models from the event store, with progress; stop projector workers first."""
    from infra.bootstrap import bootstrap
    from infra.past import horizon, same_database
    from infra.rebuild import rebuild as replay_all

    with sentences():
        settings = load_settings(data_dir)
        _require_event_store(settings)
        stop = horizon(until, until_position)
        if read_db is not None:
            if same_database(read_db, settings.read_db_url):
                raise CommandFailed(
                    f"--read-db {read_db} is the live read database (SLOTWISE_READ_DB); "
                    "give another one"
                )
            settings = settings.model_copy(update={"read_db": read_db, "kafka": ""})
        elif stop is not None:
            raise CommandFailed("--until and --until-position need --read-db (another database)")
        say(f"slotwise projections rebuild: {describe(settings)}")
        container = bootstrap(settings)
    try:
        try:
            runtime = container.runtime.only(
                [name] if name else [c.name for c in container.runtime.consumers]
            )
        except KeyError as error:
            _fail(str(error.args[0]))
        total = container.app.recorder.max_notification_id() or 0
        if stop is not None and stop.position is not None:
            total = min(total, stop.position)
        with rebuild_progress(total) as advance:
            delivered = replay_all(
                container.app.recorder,
                container.app.mapper,
                runtime,
                progress=advance,
                horizon=stop,
            )
        names = ", ".join(c.name for c in runtime.consumers)
        reached = runtime.checkpoints("log", 0)
        position = min((c.position for c in reached.values()), default=0)
        if stop is not None:
            from infra.past import mark_past

            mark_past(container.read_db.writer, position, stop.time)
            say(f"rebuilt {names} into --read-db as of position {position} ({delivered} events)")
        else:
            say(f"rebuilt {names} from {delivered} events")
        if container.settings.kafka and container.event_store_tables is not None:
            from infra.kafka.rebuild import align_kafka_checkpoints

            align_kafka_checkpoints(
                container.settings, container.event_store_tables, runtime, position
            )
            say(f"projector workers resume after position {position}")
        parked = len(container.dead_letters.entries())
        if parked:
            say(f"{parked} events parked; see: slotwise projections dead-letters list")
    finally:
        container.close()


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


@dead_letters_app.command("list")
def dead_letters_list(
    consumer: Annotated[str | None, typer.Option(help="only this consumer")] = None,
    data_dir: DataDir = None,
) -> None:
    """List parked events and the events held behind them."""
    container = _open(data_dir)
    try:
        entries = container.dead_letters.entries(consumer)
    finally:
        container.close()
    if not entries:
        say("no dead letters")
        return
    for d in entries:
        typer.echo(
            f"{d.id}\t{d.consumer}\t{d.status}\tposition {d.position}\t{d.event_type}\t"
            f"aggregate {d.aggregate_id}\tattempts {d.attempts}\t{d.error}"
        )


@dead_letters_app.command("retry")
def dead_letters_retry(
    dead_letter_id: Annotated[int | None, typer.Argument(help="the dead letter's id")] = None,
    all_: Annotated[bool, typer.Option("--all", help="retry every parked event")] = False,
    data_dir: DataDir = None,
) -> None:
    """Apply a parked event again (and those held behind it), in order."""
    from infra.consumers.dead_letters import NotAtHead, UnknownDeadLetter

    if (dead_letter_id is None) == (not all_):
        _fail("give a dead letter's id, or --all")
    container = _open(data_dir)
    try:
        letters = container.dead_letters
        if all_:
            outcome = letters.retry_all()
        else:
            assert dead_letter_id is not None
            outcome = letters.retry(dead_letter_id)
    except (NotAtHead, UnknownDeadLetter) as error:
        say(f"slotwise: {error}")
        raise typer.Exit(1) from None
    finally:
        container.close()
    say(f"applied {outcome.applied}; still parked {outcome.still_parked}")
    if outcome.still_parked:
        raise typer.Exit(1)


@dead_letters_app.command("discard")
def dead_letters_discard(
    dead_letter_id: Annotated[int, typer.Argument(help="the dead letter's id")],
    data_dir: DataDir = None,
) -> None:
    """Drop one parked event for good; later events of its aggregate stay parked."""
    from infra.consumers.dead_letters import UnknownDeadLetter

    container = _open(data_dir)
    try:
        remaining = container.dead_letters.discard(dead_letter_id)
    except UnknownDeadLetter as error:
        say(f"slotwise: {error}")
        raise typer.Exit(1) from None
    finally:
        container.close()
    say(f"discarded {dead_letter_id}; {remaining} later events of it still parked")


def _open(data_dir: Path | None) -> Container:
    """The container of an existing store, or one clear line and exit code 2."""
    from infra.bootstrap import bootstrap

    with sentences():
        settings = load_settings(data_dir)
        _require_event_store(settings)
        return bootstrap(settings)
    raise AssertionError("sentences() exits on every failure")


def _require_event_store(settings: Settings) -> None:
    """Rebuilding from a store that is not there would create an empty one and call it done."""
    if settings.uses_postgres:
        return
    path = Path(urlsplit(settings.event_store_url).path.removeprefix("/"))
    if not path.is_file():
        raise CommandFailed(
            f"no event store at {path.resolve()}; run this where the data is, "
            "or pass --data-dir (or set SLOTWISE_EVENT_STORE)"
        )


@payments_app.command("worker")
def payments_worker(
    data_dir: DataDir = None,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Run the payment saga: webhooks' news, hold expiry, Stripe retries (until SIGTERM)."""
    import signal

    from infra.payments.worker import PaymentWorker

    configure_logging()
    container = _open(data_dir)
    if not container.payments.configured:  # a deployment without online payment
        container.close()
        say("slotwise payments worker: SLOTWISE_STRIPE_API_KEY is not set; nothing to do")
        raise typer.Exit(0)
    worker = PaymentWorker(
        container.payments,
        container.app.recorder,
        container.app.mapper,
        poll_seconds=container.settings.payments_poll_seconds,
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    say(f"slotwise payments worker: running; {describe(container.settings)}")
    try:
        with metrics_endpoint(container, "payments worker", metrics_host, metrics_port):
            worker.run()
    except KeyboardInterrupt:
        pass
    finally:
        container.close()


@payments_app.command("reconcile")
def payments_reconcile(data_dir: DataDir = None) -> None:
    """Ask Stripe about every booking whose payment is still open, and record the answers."""
    from uuid import uuid4

    from infra.payments.reconcile import open_payments, reconcile

    container = _open(data_dir)
    try:
        booking_ids = open_payments(container.read_db.reader)
        results = reconcile(
            container.app, container.payments, booking_ids, f"reconcile-{uuid4().hex}"
        )
    finally:
        container.close()
    for found in results:
        typer.echo(f"{found.booking_id}\t{found.before} -> {found.after}\t{found.note}")
    say(f"{len(results)} open payments asked about")


@payments_app.command("tasks")
def payments_tasks(data_dir: DataDir = None) -> None:
    """List the payment saga's open and failed tasks (timers, Stripe calls waiting to retry)."""
    container = _open(data_dir)
    try:
        tasks = container.payments.tasks.pending()
    finally:
        container.close()
    for task in tasks:
        typer.echo(
            f"{task['id']}\t{task['status']}\t{task['kind']}\tbooking {task['booking_id']}\t"
            f"due {task['due_at'].isoformat()}\tattempts {task['attempts']}\t"
            f"{task['last_error'] or ''}"
        )
    say(f"{len(tasks)} open or failed tasks")


@customers_app.command("erase")
def customers_erase(subject: str, data_dir: DataDir = None) -> None:
    """Crypto-shred a customer's contact details and notes: their key is deleted for good."""
    from commands.messages import ErasePersonalData
    from domain.actor import Actor, Role

    container = _open(data_dir)
    try:
        done = container.app.handle(ErasePersonalData(Actor("slotwise-cli", Role.ADMIN), subject))
        if not container.settings.kafka:
            container.catch_up()
        document = _export(container, subject)
    finally:
        container.close()
    sealed = sum(b["personal_data"] == "erased" for b in document["bookings"])
    say(
        f"erased the personal data of {subject}: {sealed} bookings now read erased "
        f"(event at position {done.position})"
    )


@customers_app.command("export")
def customers_export(subject: str, data_dir: DataDir = None) -> None:
    """Print everything held about a customer as JSON (what GET /v1/me/export answers)."""
    import orjson

    container = _open(data_dir)
    try:
        if not container.settings.kafka:
            container.catch_up()
        document = _export(container, subject)
    finally:
        container.close()
    typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


def _export(container: Container, subject: str) -> dict[str, Any]:
    from read_api.routes.bookings import personal_export

    with container.read_db.reader.connect() as conn:
        return personal_export(conn, container, subject)


if __name__ == "__main__":
    app()
