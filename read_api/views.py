"""Shape read-model rows into the public JSON of API.md."""

from __future__ import annotations

from typing import Any

from read_api.queries import Row

PRIVATE_BUSINESS = ("owner_id",)


def business_view(row: Row) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in PRIVATE_BUSINESS}


def service_view(row: Row) -> dict[str, Any]:
    view = {k: v for k, v in row.items() if k not in ("price_amount", "currency")}
    view["price"] = {"amount": row["price_amount"], "currency": row["currency"]}
    return view


def booking_view(row: Row) -> dict[str, Any]:
    view = {k: v for k, v in row.items() if k not in ("price_amount", "currency")}
    view["price"] = {"amount": row["price_amount"], "currency": row["currency"]}
    return view
