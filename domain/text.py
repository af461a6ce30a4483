"""Text every part of the system can store and show: the one check for strings from outside.

PostgreSQL text cannot hold NUL, JSON encoders refuse lone surrogates, and
control characters corrupt logs and terminals; names made only of invisible
characters look empty to every person who reads them.
"""

from __future__ import annotations

import re
import unicodedata

from domain.errors import InvalidInput

# C0 controls except tab, newline and carriage return; DEL; C1 controls; lone surrogates
# (a Python str holds them only when decoded leniently, e.g. from a JSON "\ud800" escape).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATES = range(0xD800, 0xE000)
# Letters that render as blanks although Unicode does not call them space or format.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def require_clean_text(value: str, field: str) -> str:
    """`value` unchanged, or InvalidInput naming `field` and the first unsafe character."""
    found = _UNSAFE.search(value)
    if found is None:
        return value
    char = found.group()
    kind = "a lone surrogate" if ord(char) in _SURROGATES else "a control character"
    raise InvalidInput(
        f"{field} must not contain {kind} (U+{ord(char):04X} at position {found.start()})",
        field=field,
    )


def require_visible(value: str, field: str) -> str:
    """`value` if it is clean and shows at least one visible character (for names)."""
    require_clean_text(value, field)
    if not any(_visible(char) for char in value):
        raise InvalidInput(
            f"{field} must contain a visible character, not only spaces or invisible ones",
            field=field,
        )
    return value


def _visible(char: str) -> bool:
    if char in _BLANK_LETTERS or char.isspace():
        return False
    return unicodedata.category(char) not in _INVISIBLE_CATEGORIES
