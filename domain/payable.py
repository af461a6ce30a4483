"""Amounts as the payment provider (Stripe) counts them: integers of its minor unit.

Stripe follows the ISO 4217 minor units (`domain.currencies`: EUR 2, JPY 0,
BHD 3) with a few documented exceptions (https://docs.stripe.com/currencies):
ISK is written with two decimals that must be 00, MGA takes no decimals, and
three-decimal currencies must end in 0. A price that Stripe cannot charge is
refused before a booking holds a slot for it.
"""

from __future__ import annotations

from decimal import Decimal

from domain.currencies import minor_units
from domain.errors import InvalidMoney

# Where Stripe's minor unit differs from ISO 4217's.
PROVIDER_DECIMALS = {"ISK": 2, "MGA": 0}
# Stripe takes amounts in these currencies only in whole multiples of this many minor units.
PROVIDER_STEP = {"ISK": 100, "BHD": 10, "JOD": 10, "KWD": 10, "OMR": 10, "TND": 10}


def provider_decimals(currency: str) -> int:
    return PROVIDER_DECIMALS.get(currency, minor_units(currency, field="price.currency"))


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` in the provider's minor units, or InvalidMoney when it cannot be charged."""
    scaled = amount.scaleb(provider_decimals(currency))
    step = PROVIDER_STEP.get(currency, 1)
    if scaled != scaled.to_integral_value() or int(scaled) % step:
        raise InvalidMoney(
            f"{amount} {currency} cannot be charged online: Stripe takes {currency} "
            f"in steps of {Decimal(step).scaleb(-provider_decimals(currency))}",
            field="service_id",
        )
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """The provider's integer amount as a decimal with the currency's ISO minor unit."""
    value = Decimal(minor).scaleb(-provider_decimals(currency))
    return value.quantize(Decimal(1).scaleb(-minor_units(currency)))
