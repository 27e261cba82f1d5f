"""Relay-style cursors. A cursor is an opaque, versioned offset into one ordering."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

from beanie import Document
from beanie.odm.queries.find import FindMany

from madhur_gql.errors import BadUserInput

MAX_PAGE_SIZE = 100
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
        offset = int(text.removeprefix(_PREFIX))
        if offset < 0:
            raise ValueError(text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadUserInput("Malformed cursor.", field="after") from exc
    return offset + 1


def check_page_size(first: int, *, maximum: int = MAX_PAGE_SIZE, field: str = "first") -> int:
    if not 1 <= first <= maximum:
        raise BadUserInput(f"'{field}' must be between 1 and {maximum}.", field=field)
    return first


DocumentT = TypeVar("DocumentT", bound=Document)
NEWEST_FIRST = ("-created_at", "-_id")


@dataclass(frozen=True, slots=True)
class Page(Generic[DocumentT]):
    items: list[DocumentT]
    offset: int
    total: int


async def fetch_page(
    query: FindMany[DocumentT],
    *,
    first: int,
    after: str | None,
    order: tuple[str, ...] = NEWEST_FIRST,
) -> Page[DocumentT]:
    """One page of a query (an indexed sort, so skip stays cheap for the pages people read)."""
    check_page_size(first)
    offset = decode_cursor(after)
    total = await query.count()
    items = await query.sort(*order).skip(offset).limit(first).to_list()
    return Page(items=items, offset=offset, total=total)
