"""Prices as Stripe counts them: integers of the minor unit, with Stripe's own exceptions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.errors import InvalidMoney
from domain.payable import from_minor, to_minor


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("30.00", "EUR", 3000),
        ("0.50", "USD", 50),
        ("3000", "JPY", 3000),  # no minor unit
        ("1200", "KRW", 1200),
        ("5.120", "KWD", 5120),  # three decimals, the last one 0
        ("12.340", "BHD", 12340),
        ("500", "ISK", 50000),  # whole krona, written with two decimals at Stripe
        ("1000", "MGA", 1000),  # two decimals in ISO 4217, none at Stripe
    ],
)
def test_converts_a_price_to_stripes_minor_units_and_back(
    amount: str, currency: str, minor: int
) -> None:
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("5.125", "KWD"), ("12.50", "ISK"), ("10.5", "MGA"), ("1.5", "JPY"), ("1.001", "EUR")],
)
def test_refuses_a_price_stripe_cannot_charge(amount: str, currency: str) -> None:
    with pytest.raises(InvalidMoney, match=currency):
        to_minor(Decimal(amount), currency)


def test_refuses_what_is_no_currency() -> None:
    with pytest.raises(InvalidMoney, match="XYZ"):
        to_minor(Decimal("1"), "XYZ")
