"""Money in real ISO 4217 currencies to their minor unit; text that every store can hold."""

from __future__ import annotations

import pytest

from domain.currencies import currency_codes, minor_units
from domain.errors import InvalidInput, InvalidMoney
from domain.text import require_clean_text, require_visible
from domain.values import Money


@pytest.mark.parametrize(("code", "units"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("BHD", 3)])
def test_knows_each_currencys_minor_unit(code: str, units: int) -> None:
    assert minor_units(code) == units


def test_lists_real_currencies_and_no_metals_or_test_codes() -> None:
    codes = currency_codes()
    assert {"EUR", "INR", "CHF", "KWD"} <= codes
    assert codes.isdisjoint({"XAU", "XXX", "XTS", "XYZ"})


@pytest.mark.parametrize(
    ("amount", "currency", "kept"),
    [("500", "JPY", "500"), ("30", "EUR", "30.00"), ("1.5", "BHD", "1.500"), ("0", "USD", "0.00")],
)
def test_keeps_a_price_to_its_currencys_minor_unit(amount: str, currency: str, kept: str) -> None:
    assert Money.of(amount, currency).as_dict() == {"amount": kept, "currency": currency}


@pytest.mark.parametrize(("amount", "currency"), [("500.5", "JPY"), ("1.001", "EUR")])
def test_refuses_a_price_finer_than_the_minor_unit(amount: str, currency: str) -> None:
    with pytest.raises(InvalidMoney, match=currency) as refused:
        Money.of(amount, currency)
    assert refused.value.field == "price.amount"


def test_refuses_an_unknown_currency_naming_it() -> None:
    with pytest.raises(InvalidMoney, match="XYZ") as refused:
        Money.of("1", "XYZ")
    assert refused.value.field == "price.currency"


UNSAFE = {
    "NUL": "a\x00b",
    "bell": "a\x07",
    "escape": "\x1b[31mred",
    "DEL": "de\x7fl",
    "C1 next line": "a\x85b",
    "C1 CSI": "\x9b",
    "lone high surrogate": "a\ud800",
    "lone low surrogate": "\udfffz",
}


@pytest.mark.parametrize("value", list(UNSAFE.values()), ids=list(UNSAFE))
def test_refuses_control_characters_and_lone_surrogates_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidInput, match="U\\+") as refused:
        require_clean_text(value, "notes")
    assert refused.value.field == "notes"
    assert "notes" in refused.value.detail


@pytest.mark.parametrize("value", ["plain", "tab\there", "two\nlines\r\n", "Zoë ☕ 東京 🙂", ""])
def test_keeps_ordinary_text_with_tabs_and_newlines(value: str) -> None:
    assert require_clean_text(value, "notes") == value


@pytest.mark.parametrize(
    "value", ["", "   ", "\ufeff", "\u200b\u200b", " \u2060\t", "\u3164", "\u00a0\n"]
)
def test_refuses_a_name_of_only_blanks_or_invisible_characters(value: str) -> None:
    with pytest.raises(InvalidInput, match="visible") as refused:
        require_visible(value, "name")
    assert refused.value.field == "name"


@pytest.mark.parametrize("value", ["Ann", " Studio Nord ", "\ufeffSalon", "東京", "🙂"])
def test_accepts_a_name_with_something_to_see(value: str) -> None:
    assert require_visible(value, "name") == value


def test_a_visible_name_must_still_be_clean() -> None:
    with pytest.raises(InvalidInput, match="control"):
        require_visible("Salon\x00", "name")
