"""ISO 4217 currencies with their minor units, from the published table (the iso4217 package).

Prices are refused in codes that are not currencies one can pay in (XAU gold,
XXX "no currency", XTS testing...): the table gives them no minor unit.
"""

from __future__ import annotations

from functools import cache

from domain.errors import InvalidMoney


@cache
def _minor_units() -> dict[str, int]:
    from iso4217 import Currency  # parses its XML table: once, and only when money is used

    return {c.code: c.exponent for c in Currency if c.exponent is not None}


def minor_units(code: str, field: str = "currency") -> int:
    """Decimal places of `code`'s minor unit (EUR 2, JPY 0, BHD 3), or InvalidMoney."""
    units = _minor_units().get(code)
    if units is None:
        raise InvalidMoney(
            f"currency {code!r} is not an ISO 4217 currency prices can be given in", field=field
        )
    return units


def currency_codes() -> frozenset[str]:
    """Every code `minor_units` accepts."""
    return frozenset(_minor_units())
