"""Lazy iteration over a vendor's pages: one page in memory at a time, stop at ``limit``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    # What to ask for next (a page number, a cursor, a URL), or None when this was the last page.
    next: Any = None


def paginate(fetch: Callable[[Any], Page[T]], first: Any = None, limit: int | None = None) -> Iterator[T]:
    """Yield items from ``fetch(first)``, ``fetch(page.next)``, … until the pages or ``limit`` run out.

    Pages are fetched only when the consumer reaches them, so stopping early costs no extra calls.
    """
    if limit is not None and limit <= 0:
        return
    produced = 0
    cursor = first
    while True:
        page = fetch(cursor)
        for item in page.items:
            yield item
            produced += 1
            if limit is not None and produced >= limit:
                return
        if page.next is None or not page.items:
            return
        cursor = page.next


def page_number_fetcher(
    get: Callable[[int, int], dict[str, Any]],
    *,
    size: int,
    items_key: str = "items",
    total_pages_key: str | None = "totalPages",
) -> Callable[[Any], Page[Any]]:
    """Fetcher for numbered pages (``page`` from 0 or 1 and ``size``) with an envelope."""

    def fetch(page_number: Any) -> Page[Any]:
        number = int(page_number or 0)
        body = get(number, size)
        items = list(body.get(items_key) or []) if isinstance(body, dict) else list(body)
        total = body.get(total_pages_key) if isinstance(body, dict) and total_pages_key else None
        more = (number + 1 < int(total)) if total is not None else len(items) >= size
        return Page(items, number + 1 if more else None)

    return fetch
