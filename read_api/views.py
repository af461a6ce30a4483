"""Shape read-model rows into the public JSON of API.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import orjson

from domain.closures import closure_id_of
from domain.payment import like
from domain.slots import Slot
from read_api.queries import Row

PRIVATE_BUSINESS = ("owner_id",)


def business_view(row: Row) -> dict[str, Any]:
    view = {k: v for k, v in row.items() if k not in PRIVATE_BUSINESS}
    view["closures"] = closure_views(row)
    return view


def closure_views(row: Row) -> list[dict[str, Any]]:
    """The business's closures by start, then id; older ones get their derived id."""
    closures = [closure_view(row["id"], c) for c in row["closures"]]
    return sorted(closures, key=lambda c: (datetime.fromisoformat(str(c["start"])), c["id"]))


def closure_view(business_id: str, closure: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(closure_id_of(business_id, closure)),
        "start": closure["start"],
        "end": closure["end"],
        "reason": closure["reason"],
    }


def service_view(row: Row) -> dict[str, Any]:
    view = {k: v for k, v in row.items() if k not in ("price_amount", "currency")}
    view["price"] = {"amount": row["price_amount"], "currency": row["currency"]}
    return view


def booking_view(row: Row) -> dict[str, Any]:
    view = {k: v for k, v in row.items() if k not in ("price_amount", "currency", "payment")}
    view["price"] = {"amount": row["price_amount"], "currency": row["currency"]}
    zone = ZoneInfo(row["timezone"])  # the same instants in the business's offset
    view["start"], view["end"] = row["start"].astimezone(zone), row["end"].astimezone(zone)
    payment = row.get("payment")
    view["hold_expires_at"] = payment["hold_expires_at"] if payment else None
    view["payment"] = payment_view(payment) if payment else None
    return view


def payment_view(row: Row) -> dict[str, Any]:
    """A booking's online payment: API.md's {status, amount, refunded}, and where it stands."""
    currency = row["currency"]
    return {
        "provider": row["provider"],
        "payment_intent_id": row["payment_intent_id"],
        "status": row["status"],
        "amount": {"amount": row["amount"], "currency": currency},
        "refunded": {"amount": like(row["refunded"], row["amount"]), "currency": currency},
        "note": row["note"],
    }


def availability_json(service_id: UUID, timezone: str, slots: list[Slot]) -> bytes:
    """The Availability schema's JSON, written once (it is what the read cache keeps).

    orjson writes the local times itself, a zero offset as "Z" as pydantic does.
    """
    zone = ZoneInfo(timezone)
    return orjson.dumps(
        {
            "service_id": str(service_id),
            "timezone": timezone,
            "slots": [
                {
                    "start": s.start.astimezone(zone),
                    "end": s.end.astimezone(zone),
                    "seats_left": s.seats_left,
                    **({"resources": list(s.resources)} if s.resources else {}),
                }
                for s in slots
            ],
        },
        option=orjson.OPT_UTC_Z,
    )
