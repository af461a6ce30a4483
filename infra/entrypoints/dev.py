"""The dev role: write API, read API, projectors and payment worker in one process."""

from __future__ import annotations

from pathlib import Path

from uvicorn.importer import import_from_string

from infra.entrypoints import read_api, write_api
from infra.entrypoints.shared import (
    config,
    describe,
    load_settings,
    run_servers,
    sentences,
    warn_if_exposed,
)
from infra.logs import configure_logging
from infra.serving import Listener, bind, say
from infra.settings import with_local_pages


def run(data_dir: Path | None, write_port: int, read_port: int, host: str, demo: bool) -> None:
    from infra.bootstrap import bootstrap
    from infra.demo import load_demo

    configure_logging()
    with sentences():
        settings = with_local_pages(load_settings(data_dir), host, write_port, read_port)
        # Calendar feed URLs point at this read API.
        settings = settings.model_copy(update={"read_api_url": f"http://{host}:{read_port}"})
        say(f"slotwise dev: {describe(settings)}")
        warn_if_exposed(settings, host)
        sockets = [bind(host, write_port), bind(host, read_port)]
        container = bootstrap(settings)
    try:
        # The dev composition: both APIs, the projector follower and the payment worker.
        container.start_embedded_delivery()
        if demo and load_demo(container.app):
            say("slotwise dev: demo data loaded (businesses studio-nord and kolkata-courts)")
        container.start_webhook_worker()  # production: `slotwise notify` runs it
        apps = [import_from_string(role.FACTORY)(container) for role in (write_api, read_api)]
        listeners = [
            Listener("write", config(apps[0], host), sockets[0]),
            Listener("read", config(apps[1], host), sockets[1]),
        ]
        banner = (
            f"slotwise dev: serving the write API on http://{host}:{write_port}/docs "
            f"and the read API on http://{host}:{read_port}/docs (Ctrl+C stops)"
        )
        run_servers(listeners, lambda: say(banner))
    finally:
        container.close()
