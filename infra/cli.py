"""The `slotwise` command line (typer)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress

from domain.actor import TOKEN_ROLES, Role
from infra.auth import issue_token
from infra.settings import Settings

app = typer.Typer(help="SlotWise: event-sourced appointment booking.", no_args_is_help=True)
projections_app = typer.Typer(help="Read-model maintenance.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
dead_letters_app = typer.Typer(
    help="Events a consumer could not apply, and those held behind them.", no_args_is_help=True
)
projections_app.add_typer(dead_letters_app, name="dead-letters")
payments_app = typer.Typer(help="Online payment through Stripe.", no_args_is_help=True)
app.add_typer(payments_app, name="payments")
console = Console(stderr=True)


@app.command()
def dev(
    data_dir: Annotated[Path, typer.Option(help="where the SQLite files live")] = Path(".slotwise"),
    write_port: int = 8000,
    read_port: int = 8001,
    host: str = "127.0.0.1",
    demo: Annotated[bool, typer.Option(help="load sample businesses and bookings")] = False,
) -> None:
    """Run the embedded stack in one process: write API, read API and projectors."""
    from infra.bootstrap import bootstrap
    from infra.demo import load_demo
    from read_api.app import create_app as create_read_app
    from write_api.app import create_app as create_write_app

    container = bootstrap(Settings(data_dir=data_dir))
    if demo and load_demo(container.app):
        console.print("[green]demo data loaded[/] (businesses studio-nord and kolkata-courts)")
    container.start_follower()
    if container.payments.configured:
        container.start_payment_worker()
    servers = [
        uvicorn.Server(uvicorn.Config(create_write_app(container), host=host, port=write_port)),
        uvicorn.Server(uvicorn.Config(create_read_app(container), host=host, port=read_port)),
    ]
    console.print(
        f"write API http://{host}:{write_port}/docs · read API http://{host}:{read_port}/docs"
    )
    try:
        asyncio.run(_serve(servers))
    finally:
        container.close()


async def _serve(servers: list[uvicorn.Server]) -> None:
    await asyncio.gather(*(server.serve() for server in servers))


@app.command("write-api")
def write_api(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve the write API, configured from the environment."""
    uvicorn.run("write_api.app:create_app", factory=True, host=host, port=port, workers=workers)


@app.command("read-api")
def read_api(host: str = "127.0.0.1", port: int = 8001, workers: int = 1) -> None:
    """Serve the read API (and, without Kafka, the projector follower)."""
    uvicorn.run("read_api.app:create_app", factory=True, host=host, port=port, workers=workers)


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="the subject (user id)")],
    role: Annotated[Role, typer.Option(help="customer, owner, admin or auditor")],
    ttl: Annotated[int, typer.Option(help="seconds until it expires")] = 3600,
) -> None:
    """Print a signed bearer token (development and scripts)."""
    if role not in TOKEN_ROLES:
        raise typer.BadParameter(f"{role.value} is for SlotWise's own processes, not tokens")
    typer.echo(issue_token(Settings().jwt_key, sub, role, ttl))


@projections_app.command("rebuild")
def rebuild(
    name: Annotated[str | None, typer.Option(help="one projector; default all")] = None,
) -> None:
    """Rebuild read models from the event store, with progress. Stop the read API first."""
    from infra.bootstrap import bootstrap
    from infra.follower import catch_up

    container = bootstrap()
    try:
        try:
            runtime = container.runtime.only(
                [name] if name else [c.name for c in container.runtime.consumers]
            )
        except KeyError as error:
            raise typer.BadParameter(str(error.args[0])) from None
        for consumer in runtime.consumers:
            runtime.reset(consumer)
        total = container.app.recorder.max_notification_id() or 0
        with Progress(console=console) as progress:
            task = progress.add_task("replaying events", total=total)
            delivered = catch_up(
                container.app.recorder,
                container.app.mapper,
                runtime,
                progress=lambda n: progress.advance(task, n),
            )
            progress.update(task, completed=total)
        names = ", ".join(c.name for c in runtime.consumers)
        console.print(f"rebuilt {names} from {delivered} events")
        parked = len(container.dead_letters.entries())
        if parked:
            console.print(
                f"[yellow]{parked} events parked[/]: slotwise projections dead-letters list"
            )
    finally:
        container.close()


@dead_letters_app.command("list")
def dead_letters_list(
    consumer: Annotated[str | None, typer.Option(help="only this consumer")] = None,
) -> None:
    """List parked events and the events held behind them."""
    from infra.bootstrap import bootstrap

    container = bootstrap()
    try:
        entries = container.dead_letters.entries(consumer)
    finally:
        container.close()
    if not entries:
        console.print("no dead letters")
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
) -> None:
    """Apply a parked event again (and those held behind it), in order."""
    from infra.bootstrap import bootstrap
    from infra.consumers.dead_letters import NotAtHead, UnknownDeadLetter

    if (dead_letter_id is None) == (not all_):
        raise typer.BadParameter("give a dead letter's id, or --all")
    container = bootstrap()
    try:
        letters = container.dead_letters
        if all_:
            outcome = letters.retry_all()
        else:
            assert dead_letter_id is not None
            outcome = letters.retry(dead_letter_id)
    except (NotAtHead, UnknownDeadLetter) as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None
    finally:
        container.close()
    console.print(f"applied {outcome.applied}; still parked {outcome.still_parked}")
    if outcome.still_parked:
        raise typer.Exit(1)


@dead_letters_app.command("discard")
def dead_letters_discard(
    dead_letter_id: Annotated[int, typer.Argument(help="the dead letter's id")],
) -> None:
    """Drop one parked event for good; later events of its aggregate stay parked."""
    from infra.bootstrap import bootstrap
    from infra.consumers.dead_letters import UnknownDeadLetter

    container = bootstrap()
    try:
        remaining = container.dead_letters.discard(dead_letter_id)
    except UnknownDeadLetter as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None
    finally:
        container.close()
    console.print(f"discarded {dead_letter_id}; {remaining} later events of it still parked")


@payments_app.command("worker")
def payments_worker() -> None:
    """Run the payment saga: webhooks' news, hold expiry, Stripe retries (until SIGTERM)."""
    import signal

    from infra.bootstrap import bootstrap
    from infra.payments.worker import PaymentWorker

    container = bootstrap()
    if not container.payments.configured:
        container.close()
        console.print("[red]SLOTWISE_STRIPE_API_KEY is not set: there is nothing to do[/]")
        raise typer.Exit(1)
    worker = PaymentWorker(
        container.payments,
        container.app.recorder,
        container.app.mapper,
        poll_seconds=container.settings.payments_poll_seconds,
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    console.print("payment worker running")
    try:
        worker.run()
    except KeyboardInterrupt:
        pass
    finally:
        container.close()


@payments_app.command("reconcile")
def payments_reconcile() -> None:
    """Ask Stripe about every booking whose payment is still open, and record the answers."""
    from uuid import uuid4

    from infra.bootstrap import bootstrap
    from infra.payments.reconcile import open_payments, reconcile

    container = bootstrap()
    try:
        booking_ids = open_payments(container.read_db.reader)
        results = reconcile(
            container.app, container.payments, booking_ids, f"reconcile-{uuid4().hex}"
        )
    finally:
        container.close()
    for found in results:
        typer.echo(f"{found.booking_id}\t{found.before} -> {found.after}\t{found.note}")
    console.print(f"{len(results)} open payments asked about")


@payments_app.command("tasks")
def payments_tasks() -> None:
    """List the payment saga's open and failed tasks (timers, Stripe calls waiting to retry)."""
    from infra.bootstrap import bootstrap

    container = bootstrap()
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
    console.print(f"{len(tasks)} open or failed tasks")


if __name__ == "__main__":
    app()
