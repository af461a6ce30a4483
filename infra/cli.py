"""The `slotwise` command line (typer)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress

from domain.actor import Role
from infra.auth import issue_token
from infra.settings import Settings

app = typer.Typer(help="SlotWise: event-sourced appointment booking.", no_args_is_help=True)
projections_app = typer.Typer(help="Read-model maintenance.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
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
    typer.echo(issue_token(Settings().jwt_key, sub, role, ttl))


@projections_app.command("rebuild")
def rebuild(
    name: Annotated[str | None, typer.Option(help="one projector; default all")] = None,
) -> None:
    """Rebuild read models from the event store, with progress. Stop the read API first."""
    from infra.bootstrap import bootstrap
    from infra.follower import catch_up
    from projections.base import ProjectionRunner

    container = bootstrap()
    try:
        chosen = [p for p in container.runner.projectors if name in (None, p.name)]
        if not chosen:
            known = ", ".join(p.name for p in container.runner.projectors)
            raise typer.BadParameter(f"unknown projector {name!r}; known: {known}")
        runner = ProjectionRunner(container.read_db.writer, chosen)
        for projector in chosen:
            runner.reset(projector)
        total = container.app.recorder.max_notification_id() or 0
        with Progress(console=console) as progress:
            task = progress.add_task("replaying events", total=total)
            delivered = catch_up(
                container.app.recorder,
                container.app.mapper,
                runner,
                progress=lambda n: progress.advance(task, n),
            )
            progress.update(task, completed=total)
        console.print(f"rebuilt {', '.join(p.name for p in chosen)} from {delivered} events")
    finally:
        container.close()
