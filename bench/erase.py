"""Erasing a customer with 1,000 bookings (SQLite, command level): `python bench/erase.py`."""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from commands.messages import ErasePersonalData, PlaceBooking
from domain.actor import Actor, Role
from domain.personal import Contact
from infra.bootstrap import bootstrap
from infra.settings import Settings
from read_api.personal import personal_export
from tests.unit.builders import every_day, open_salon, owner

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
ANN = Actor("ann", Role.CUSTOMER)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        container = bootstrap(Settings(data_dir=Path(tmp)), clock=lambda: NOW)
        week = every_day("00:00", "23:00", ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
        _, service = open_salon(container.app, owner(), timezone="UTC", capacity=5, weekly=week)
        first = datetime(2027, 3, 2, tzinfo=UTC)
        contact = Contact("Ann", "ann@example.com", "+4915112345678", "de")
        for n in range(1000):
            start = first + timedelta(n // 50, hours=n % 50 // 5)
            container.app.handle(PlaceBooking(ANN, service, start, "a note", contact=contact))
        container.catch_up()
        began = time.perf_counter()
        container.app.handle(ErasePersonalData(ANN, "ann"))
        erased = time.perf_counter() - began
        began = time.perf_counter()
        with container.read_db.reader.connect() as conn:
            shown = personal_export(conn, container.personal_data, "ann")["bookings"]
        read = time.perf_counter() - began
        assert len(shown) == 1000 and {b["personal_data"] for b in shown} == {"erased"}
        print(
            f"erase of 1,000 bookings: {erased * 1000:.1f} ms; export after: {read * 1000:.0f} ms"
        )
        container.close()


if __name__ == "__main__":
    main()
