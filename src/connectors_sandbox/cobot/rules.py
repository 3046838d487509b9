"""What the Cobot handlers share: route requirements, errors in Cobot's shapes, date ranges, form or JSON
bodies, and who may see a membership."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request

from connectors_sandbox.common import ApiError, json_body
from connectors_sandbox.oauth import Grant
from connectors_sandbox.pipeline import Call

Space = dict[str, Any]


@dataclass(frozen=True)
class Access:
    """What a Cobot route requires: one of ``scopes``; a space (the path's ``{subdomain}``); an admin of it,
    or a member or admin of it; and a per-endpoint rate limit (requests per minute) on top of the user's."""

    scopes: tuple[str, ...] = ()
    space: bool = True
    admin: bool = False
    member: bool = False
    endpoint_limit: int | None = None


CobotCall = Call[Access, Grant]


def unprocessable(errors: dict[str, str]) -> ApiError:
    """Cobot's documented validation error: 422 ``{"errors": {"field": "message"}}``."""
    return ApiError("Unprocessable entity", 422, body={"errors": errors})


def parse_moment(value: Any, *, end_of_day: bool = False) -> datetime | None:
    """ISO 8601 date or date-time (``2025-03-01``, ``2025-03-01T10:00:00+01:00``, ``…Z``)."""
    if value in (None, ""):
        return None
    text = str(value).strip().replace(" ", "T", 1).replace("Z", "+00:00")
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            return moment + timedelta(days=1) - timedelta(seconds=1) if end_of_day else moment
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(value) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def date_range(request: Request, required: bool = True) -> tuple[datetime, datetime]:
    """The ``from`` / ``to`` query parameters (422 when missing or invalid)."""
    q = request.query_params
    errors: dict[str, str] = {}
    moments: dict[str, datetime | None] = {}
    for name in ("from", "to"):
        try:
            moments[name] = parse_moment(q.get(name), end_of_day=name == "to")
        except ValueError:
            errors[name] = "is invalid"
            continue
        if moments[name] is None and required:
            errors[name] = "can't be blank"
    if errors:
        raise unprocessable(errors)
    start = moments.get("from") or datetime(1970, 1, 1, tzinfo=timezone.utc)
    end = moments.get("to") or datetime(2999, 1, 1, tzinfo=timezone.utc)
    if end < start:
        raise unprocessable({"to": "must be after from"})
    return start, end


def overlaps(begin_text: str, finish_text: str, start: datetime, end: datetime) -> bool:
    begin, finish = parse_moment(begin_text), parse_moment(finish_text)
    assert begin and finish
    return begin <= end and finish >= start


async def form_body(request: Request) -> dict[str, Any]:
    """A POST/PUT body, form-encoded or JSON (Cobot takes both)."""
    if "json" in request.headers.get("content-type", ""):
        body = await json_body(request)
        return body if isinstance(body, dict) else {}
    return {k: str(v) for k, v in (await request.form()).items()}


def user_id(call: CobotCall) -> str:
    return str(call.principal.user["id"])


def is_admin(call: CobotCall, space: Space) -> bool:
    return user_id(call) in space["admins"]


def membership_of(space: Space | None, uid: str) -> dict[str, Any] | None:
    for member in (space or {}).get("memberships", {}).values():
        if member.get("user") and member["user"]["id"] == uid:
            return dict(member)
    return None


def own_or_admin(call: CobotCall, space: Space, membership_id: str) -> dict[str, Any]:
    """The membership, if the caller is its member or an admin of the space (404 / 403 otherwise)."""
    member = space["memberships"].get(membership_id)
    if member is None:
        raise ApiError("Membership not found.", 404)
    if not is_admin(call, space) and (member.get("user") or {}).get("id") != user_id(call):
        raise ApiError("Forbidden: you may only see your own membership.", 403)
    return dict(member)
