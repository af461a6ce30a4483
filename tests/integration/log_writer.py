"""A writer process for the log-order test: threads saving events as fast as they can.

Run as `python -m tests.integration.log_writer URL SAVES THREADS`; every save
inserts one to three events of a new aggregate, and every seventh also tries a
version another save already took, which must fail as a conflict and leave
none of its events behind.
"""

from __future__ import annotations

import sys
import threading
import uuid

from eventsourcing.persistence import IntegrityError, StoredEvent

from commands.app import SlotWise
from infra.settings import Settings
from tests.conftest import JWT_SECRET


def write(app: SlotWise, saves: int, conflicts: list[uuid.UUID]) -> None:
    taken = uuid.uuid4()
    app.recorder.insert_events([StoredEvent(taken, 1, "probe", b"{}")])
    for n in range(saves):
        originator = uuid.uuid4()
        events = [StoredEvent(originator, v, "probe", b"{}") for v in range(1, 2 + n % 3)]
        if n % 7 == 0:
            events.append(StoredEvent(taken, 1, "probe", b"{}"))
        try:
            app.recorder.insert_events(events)
        except IntegrityError:
            conflicts.append(originator)


def main(url: str, saves: int, threads: int) -> None:
    settings = Settings(event_store=url, read_db=url, jwt_secret=JWT_SECRET)
    app = SlotWise(env={**settings.eventsourcing_env(), "CREATE_TABLE": "n"})
    conflicts: list[uuid.UUID] = []
    workers = [threading.Thread(target=write, args=(app, saves, conflicts)) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    leftovers = [o for o in conflicts if app.recorder.select_events(o)]
    app.close()
    if leftovers:
        sys.exit(f"{len(leftovers)} saves that failed left events behind")
    expected = threads * len(range(0, saves, 7))
    if len(conflicts) != expected:
        sys.exit(f"expected {expected} conflicts, got {len(conflicts)}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
