"""The `slotwise` command line (typer).

Whatever goes wrong before a server is up (a setting, an unreachable
database, a busy port) is one sentence on stderr and exit code 2.
"""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from infra.audit.cli import audit_app

if TYPE_CHECKING:
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
        from importlib.metadata import version as installed_version

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


@app.command()
def dev(
    data_dir: DataDir = None,
    write_port: int = 8000,
    read_port: int = 8001,
    host: Host = "127.0.0.1",
    demo: Annotated[bool, typer.Option(help="load sample businesses and bookings")] = False,
) -> None:
    """Run the embedded stack in one process: write API, read API and projectors."""
    from infra.entrypoints import dev as role

    role.run(data_dir, write_port, read_port, host, demo)


@app.command("write-api")
def write_api(
    host: Host = "127.0.0.1", port: int = 8000, workers: int = 1, data_dir: DataDir = None
) -> None:
    """Serve the write API, configured from the environment."""
    from infra.entrypoints import write_api as role

    role.run(host, port, workers, data_dir)


@app.command("read-api")
def read_api(
    host: Host = "127.0.0.1", port: int = 8001, workers: int = 1, data_dir: DataDir = None
) -> None:
    """Serve the read API (and, without Kafka, the projector follower)."""
    from infra.entrypoints import read_api as role

    role.run(host, port, workers, data_dir)


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
    from infra.entrypoints import relay as role

    role.run(log_level, metrics_host, metrics_port)


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
    from infra.entrypoints import project as role

    role.run(name or [], log_level, metrics_host, metrics_port)


contract_app = typer.Typer(help="The contract for analytics consumers.", no_args_is_help=True)
app.add_typer(contract_app, name="contract")


@contract_app.command("generate")
def contract_generate(
    docs: Annotated[Path, typer.Option(help="where asyncapi.yaml and schemas/ go")] = Path("docs"),
    check: Annotated[bool, typer.Option(help="only report drift; exit 1 if any")] = False,
) -> None:
    """Write the AsyncAPI 3.0 document and a JSON Schema per public event type."""
    from infra.contract.generate import drifted, write
    from infra.entrypoints import shared

    if check:
        stale = drifted(docs)
        for path in stale:
            shared.say(f"slotwise: out of date: {docs / path}")
        raise typer.Exit(1 if stale else 0)
    written = write(docs)
    shared.say(f"wrote {len(written)} files under {docs}")


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="the subject (user id)")],
    role: Annotated[str, typer.Option(help="customer, owner, admin or auditor")],
    ttl: Annotated[int, typer.Option(help="seconds until it expires")] = 3600,
    data_dir: DataDir = None,
) -> None:
    """Print a signed HS256 bearer token (development and scripts)."""
    from pydantic import ValidationError

    from domain.actor import Role
    from domain.errors import InvalidInput
    from infra.claims import TokenPolicy, issue_token, require_issuable
    from infra.lines import CommandFailed, say
    from infra.settings import Settings

    try:
        settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
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
    except CommandFailed as failure:
        say(f"slotwise: {failure}")
        raise typer.Exit(2) from None
    except ValidationError as error:
        from infra.entrypoints.shared import first_problem

        say(f"slotwise: configuration error: {first_problem(error)}")
        raise typer.Exit(2) from None


@app.command()
def backup(
    out: Annotated[Path, typer.Argument(help="the backup file to write (must not exist)")],
    data_dir: DataDir = None,
) -> None:
    """Back up the event store (pg_dump of its schema, or SQLite's online backup)."""
    from infra.backup import BackupFailed
    from infra.backup import backup as back_up
    from infra.entrypoints import shared

    with shared.sentences():
        settings = shared.load_settings(data_dir)
        try:
            what = back_up(settings, out)
        except BackupFailed as error:
            shared.fail(str(error))
        shared.say(f"backed up {what} to {out}")


@app.command()
def restore(
    backup_file: Annotated[Path, typer.Argument(help="a file written by `slotwise backup`")],
    data_dir: DataDir = None,
) -> None:
    """Restore the event store into an empty place; then run `slotwise projections rebuild`."""
    from infra.backup import BackupFailed
    from infra.backup import restore as restore_store
    from infra.entrypoints import shared

    with shared.sentences():
        settings = shared.load_settings(data_dir)
        try:
            what = restore_store(settings, backup_file)
        except BackupFailed as error:
            shared.fail(str(error))
        shared.say(f"restored {backup_file} into {what}; now run: slotwise projections rebuild")


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
    from infra.entrypoints import shared
    from infra.past import horizon, same_database
    from infra.rebuild import rebuild as replay_all

    with shared.sentences():
        settings = shared.load_settings(data_dir)
        shared.require_event_store(settings)
        stop = horizon(until, until_position)
        if read_db is not None:
            if same_database(read_db, settings.read_db_url):
                raise shared.CommandFailed(
                    f"--read-db {read_db} is the live read database (SLOTWISE_READ_DB); "
                    "give another one"
                )
            settings = settings.model_copy(update={"read_db": read_db, "kafka": ""})
        elif stop is not None:
            raise shared.CommandFailed(
                "--until and --until-position need --read-db (another database)"
            )
        shared.say(f"slotwise projections rebuild: {shared.describe(settings)}")
        container = bootstrap(settings)
    try:
        try:
            runtime = container.runtime.only(
                [name] if name else [c.name for c in container.runtime.consumers]
            )
        except KeyError as error:
            shared.fail(str(error.args[0]))
        total = container.app.recorder.max_notification_id() or 0
        if stop is not None and stop.position is not None:
            total = min(total, stop.position)
        with shared.rebuild_progress(total) as advance:
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
            shared.say(
                f"rebuilt {names} into --read-db as of position {position} ({delivered} events)"
            )
        else:
            shared.say(f"rebuilt {names} from {delivered} events")
        if container.settings.kafka and container.event_store_tables is not None:
            from infra.kafka.rebuild import align_kafka_checkpoints

            align_kafka_checkpoints(
                container.settings, container.event_store_tables, runtime, position
            )
            shared.say(f"projector workers resume after position {position}")
        parked = len(container.dead_letters.entries())
        if parked:
            shared.say(f"{parked} events parked; see: slotwise projections dead-letters list")
    finally:
        container.close()


@dead_letters_app.command("list")
def dead_letters_list(
    consumer: Annotated[str | None, typer.Option(help="only this consumer")] = None,
    data_dir: DataDir = None,
) -> None:
    """List parked events and the events held behind them."""
    from infra.entrypoints import shared

    container = shared.open_container(data_dir)
    try:
        entries = container.dead_letters.entries(consumer)
    finally:
        container.close()
    if not entries:
        shared.say("no dead letters")
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
    from infra.entrypoints import shared

    if (dead_letter_id is None) == (not all_):
        shared.fail("give a dead letter's id, or --all")
    container = shared.open_container(data_dir)
    try:
        letters = container.dead_letters
        if all_:
            outcome = letters.retry_all()
        else:
            assert dead_letter_id is not None
            outcome = letters.retry(dead_letter_id)
    except (NotAtHead, UnknownDeadLetter) as error:
        shared.say(f"slotwise: {error}")
        raise typer.Exit(1) from None
    finally:
        container.close()
    shared.say(f"applied {outcome.applied}; still parked {outcome.still_parked}")
    if outcome.still_parked:
        raise typer.Exit(1)


@dead_letters_app.command("discard")
def dead_letters_discard(
    dead_letter_id: Annotated[int, typer.Argument(help="the dead letter's id")],
    data_dir: DataDir = None,
) -> None:
    """Drop one parked event for good; later events of its aggregate stay parked."""
    from infra.consumers.dead_letters import UnknownDeadLetter
    from infra.entrypoints import shared

    container = shared.open_container(data_dir)
    try:
        remaining = container.dead_letters.discard(dead_letter_id)
    except UnknownDeadLetter as error:
        shared.say(f"slotwise: {error}")
        raise typer.Exit(1) from None
    finally:
        container.close()
    shared.say(f"discarded {dead_letter_id}; {remaining} later events of it still parked")


@payments_app.command("worker")
def payments_worker(
    data_dir: DataDir = None,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Run the payment saga: webhooks' news, hold expiry, Stripe retries (until SIGTERM)."""
    from infra.entrypoints import payments as role

    role.run(data_dir, metrics_host, metrics_port)


@app.command()
def notify(
    data_dir: DataDir = None,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Run the notification worker: emails, SMS and reminders (until SIGTERM)."""
    from infra.entrypoints import notify as role

    role.run(data_dir, metrics_host, metrics_port)


@app.command()
def waitlist(
    data_dir: DataDir = None,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Run the waitlist process manager: offer freed seats to the line, end offers (until
    SIGTERM)."""
    from infra.entrypoints import waitlist as role

    role.run(data_dir, metrics_host, metrics_port)


webhooks_app = typer.Typer(help="Signed webhook deliveries.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("worker")
def webhooks_worker(data_dir: DataDir = None) -> None:
    """Deliver webhooks alone (`slotwise notify` also does): signed, in order, retried."""
    from infra.entrypoints import webhooks as role

    role.run(data_dir)


@payments_app.command("reconcile")
def payments_reconcile(data_dir: DataDir = None) -> None:
    """Ask Stripe about every booking whose payment is still open, and record the answers."""
    from uuid import uuid4

    from commands.processes.payment.reconcile import Reconcile
    from infra.entrypoints import shared
    from infra.payments.open_payments import ReadModelOpenPayments

    container = shared.open_container(data_dir)
    try:
        payments = container.payments
        reconcile = Reconcile(container.app, payments.provider, payments.checkout)
        booking_ids = ReadModelOpenPayments(container.read_db.reader)()
        results = reconcile(booking_ids, f"reconcile-{uuid4().hex}")
    finally:
        container.close()
    for found in results:
        typer.echo(f"{found.booking_id}\t{found.before} -> {found.after}\t{found.note}")
    shared.say(f"{len(results)} open payments asked about")


@payments_app.command("tasks")
def payments_tasks(data_dir: DataDir = None) -> None:
    """List the payment saga's open and failed tasks (timers, Stripe calls waiting to retry)."""
    from infra.entrypoints import shared

    container = shared.open_container(data_dir)
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
    shared.say(f"{len(tasks)} open or failed tasks")


@customers_app.command("erase")
def customers_erase(subject: str, data_dir: DataDir = None) -> None:
    """Crypto-shred a customer's contact details and notes: their key is deleted for good."""
    from commands.messages import ErasePersonalData
    from domain.actor import Actor, Role
    from infra.entrypoints import shared

    container = shared.open_container(data_dir)
    try:
        done = container.app.handle(ErasePersonalData(Actor("slotwise-cli", Role.ADMIN), subject))
        if not container.settings.kafka:
            container.catch_up()
        document = _export(container, subject)
    finally:
        container.close()
    sealed = sum(b["personal_data"] == "erased" for b in document["bookings"])
    shared.say(
        f"erased the personal data of {subject}: {sealed} bookings now read erased "
        f"(event at position {done.position})"
    )


@customers_app.command("export")
def customers_export(subject: str, data_dir: DataDir = None) -> None:
    """Print everything held about a customer as JSON (what GET /v1/me/export answers)."""
    import orjson

    from infra.entrypoints import shared

    container = shared.open_container(data_dir)
    try:
        if not container.settings.kafka:
            container.catch_up()
        document = _export(container, subject)
    finally:
        container.close()
    typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


def _export(container: Container, subject: str) -> dict[str, Any]:
    # The export document is the read API's own answer; like the APIs themselves it is
    # named, not imported, so infra's import graph never reaches read_api.
    export = import_module("read_api.personal").personal_export

    with container.read_db.reader.connect() as conn:
        document: dict[str, Any] = export(conn, container.personal_data, subject)
        return document


if __name__ == "__main__":
    app()
