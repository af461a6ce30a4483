"""Text every part of the system can store and show: the one check for strings from outside.

PostgreSQL text cannot hold NUL, a lone surrogate cannot be encoded as UTF-8,
control characters corrupt logs, CSV exports and terminals; a name made only
of invisible characters (a byte-order mark, a zero-width space) looks empty.
"""

from __future__ import annotations

import unicodedata

from domain.errors import InvalidInput

ALLOWED_CONTROLS = frozenset("\t\n\r")
# Letters and symbols that render as nothing, though Unicode does not call them blank.
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})


def unclean_character(value: str, *, single_line: bool = False) -> str | None:
    """A description of the first character no store accepts, or None."""
    for position, char in enumerate(value):
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return f"a lone surrogate (U+{code:04X} at position {position})"
        if code < 0x20 or 0x7F <= code <= 0x9F:
            if char in ALLOWED_CONTROLS and not single_line:
                continue
            name = ", NUL" if code == 0 else ""
            return f"a control character (U+{code:04X}{name} at position {position})"
    return None


def require_clean_text(value: str, field: str, *, single_line: bool = False) -> str:
    """`value` unchanged, or InvalidInput naming `field` and the first unsafe character."""
    problem = unclean_character(value, single_line=single_line)
    if problem is not None:
        raise InvalidInput(f"{field} must not contain {problem}", field=field)
    return value


def is_visible(value: str) -> bool:
    """Does `value` show at least one character a reader can see?"""
    return any(
        not char.isspace()
        and char not in BLANK_LOOKING
        and unicodedata.category(char) not in INVISIBLE_CATEGORIES
        for char in value
    )


def require_visible(value: str, field: str) -> str:
    """`value` if it is clean and shows at least one visible character (for names)."""
    require_clean_text(value, field)
    if not is_visible(value):
        raise InvalidInput(
            f"{field} must contain a visible character, not only spaces or invisible ones",
            field=field,
        )
    return value
