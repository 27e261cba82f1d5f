"""Relay-style cursors. A cursor is an opaque, versioned offset into one ordering.

Only the GraphQL layer speaks cursors: it turns `first`/`after` into an offset and a limit
for the services, and the offsets of a page back into cursors.
"""

from __future__ import annotations

import base64
import binascii

from madhur_gql.errors import BadUserInput

MAX_PAGE_SIZE = 100
MAX_OFFSET = 2**31 - 2  # beyond any list served here; a database skip of more overflows
_PREFIX = "o1:"


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The offset just after `cursor` (0 for no cursor)."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith(_PREFIX):
            raise ValueError(text)
        digits = text.removeprefix(_PREFIX)
        if not digits.isascii() or not digits.isdigit() or len(digits) > 10:
            raise ValueError(text)
        offset = int(digits)
        if offset > MAX_OFFSET:
            raise ValueError(text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadUserInput("Malformed cursor.", field="after") from exc
    return offset + 1


def check_page_size(first: int, *, maximum: int = MAX_PAGE_SIZE, field: str = "first") -> int:
    if not 1 <= first <= maximum:
        raise BadUserInput(f"'{field}' must be between 1 and {maximum}.", field=field)
    return first


def window(first: int, after: str | None) -> tuple[int, int]:
    """(offset, limit) for a `first`/`after` page; BAD_USER_INPUT for a bad size or cursor."""
    limit = check_page_size(first)
    return decode_cursor(after), limit
