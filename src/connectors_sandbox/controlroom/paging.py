"""Paged lists as the spec has them: ``{"next", "has_more", "data"}``, ``limit`` a number, ``next`` a full URL."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request

from connectors_sandbox.controlroom.access import bad_request

MAX_LIMIT = 100


def limit_of(request: Request, default: int = 20, maximum: int = MAX_LIMIT) -> int:
    given = request.query_params.getlist("limit")
    if len(given) > 1:
        raise bad_request("limit may be given once")
    raw = given[0] if given else None
    try:
        value = float(raw) if raw is not None else float(default)
    except ValueError:
        raise bad_request(f"limit must be a number, not {raw!r}")
    if value != value or value < 1:  # NaN or below one
        raise bad_request("limit must be a number of at least 1")
    return int(min(value, maximum))


def page(
    request: Request, rows: list[Any], render: Callable[[Any], dict[str, Any]], default: int = 20
) -> dict[str, Any]:
    """One page of ``rows`` (already in order) with a cursor inside the ``next`` URL."""
    limit = limit_of(request, default)
    cursor = request.query_params.get("cursor")
    start = 0
    if cursor:
        try:
            start = int(base64.urlsafe_b64decode(cursor.encode()).decode())
        except ValueError:
            raise bad_request("Invalid cursor")
    chunk = rows[start : start + limit]
    more = start + limit < len(rows)
    next_url = None
    if more:
        token = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        next_url = str(request.url.include_query_params(cursor=token))
    return {"next": next_url, "has_more": more, "data": [render(row) for row in chunk]}


def newest_first(rows: Iterable[Any]) -> list[Any]:
    return sorted(rows, key=lambda row: -row.seq)
