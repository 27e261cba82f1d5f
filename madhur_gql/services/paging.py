"""One page of a longer list: the items, where the page starts, and how many there are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from beanie import Document
from beanie.odm.queries.find import FindMany

ItemT = TypeVar("ItemT")
DocumentT = TypeVar("DocumentT", bound=Document)
NEWEST_FIRST = ("-created_at", "-_id")


@dataclass(frozen=True, slots=True)
class Page(Generic[ItemT]):
    items: list[ItemT]
    offset: int
    total: int


async def fetch_page(
    query: FindMany[DocumentT],
    *,
    offset: int,
    limit: int,
    order: tuple[str, ...] = NEWEST_FIRST,
) -> Page[DocumentT]:
    """One page of a query (an indexed sort, so skip stays cheap for the pages people read)."""
    total = await query.count()
    items = await query.sort(*order).skip(offset).limit(limit).to_list()
    return Page(items=items, offset=offset, total=total)
