"""Path, query and header parameters are checked like body strings, before any route uses them.

A NUL in a slug path reached PostgreSQL as a 500; a control character in a
header would reach the logs. Each offending parameter is a 422 naming it.
"""

from __future__ import annotations

from fastapi import Request

from domain.text import require_clean_text

# X-Correlation-Id has a stricter pattern of its own where it is read.
CHECKED_HEADERS = ("Idempotency-Key", "X-Consistency-Token")
CHECKED_ELSEWHERE = frozenset({"cursor"})  # a cursor that does not decode is a 400 of its own


async def require_clean_parameters(request: Request) -> None:
    """Refuse NUL, control characters and lone surrogates in any parameter a route reads."""
    for name, value in request.path_params.items():
        if isinstance(value, str):
            require_clean_text(value, name)
    for name, value in request.query_params.multi_items():
        require_clean_text(name, "query parameter name")
        if name not in CHECKED_ELSEWHERE:
            require_clean_text(value, name)
    for header in CHECKED_HEADERS:
        value = request.headers.get(header)
        if value is not None:
            require_clean_text(value, header)
