"""The API key check every write path shares (GraphQL mutations, the annotation page).

:func:`key_problem` compares in constant time and says what is wrong in words a client can
act on, or None when the key is right.
"""

from __future__ import annotations

import hmac

__all__ = ["API_KEY_HEADER", "key_problem"]

API_KEY_HEADER = "X-API-Key"


def key_problem(expected: str, given: str | None) -> str | None:
    """None when ``given`` is ``expected``, else why the request is refused."""
    if not given:
        return f"missing API key: send it in the {API_KEY_HEADER} header"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return "wrong API key"
    return None
