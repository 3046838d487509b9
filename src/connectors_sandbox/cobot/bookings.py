"""Cobot bookings and resources: list by date range, create on a resource, change, cancel."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from connectors_sandbox.cobot import data
from connectors_sandbox.cobot.rules import (
    CobotCall,
    Space,
    date_range,
    form_body,
    is_admin,
    membership_of,
    overlaps,
    parse_moment,
    unprocessable,
    user_id,
)
from connectors_sandbox.common import ApiError

Notify = Callable[[Space, str, str], None]


class Bookings:
    def __init__(self, lock: threading.Lock, notify: Notify) -> None:
        self._lock = lock
        self._notify = notify

    @staticmethod
    def _visible(call: CobotCall, space: Space) -> list[dict[str, Any]]:
        bookings = list(space["bookings"].values())
        if is_admin(call, space):
            return bookings
        own = membership_of(space, user_id(call))
        return [b for b in bookings if own and (b.get("membership") or {}).get("id") == own["id"]]

    def _find(self, call: CobotCall) -> dict[str, Any]:
        space: Space = call.target
        booking = space["bookings"].get(call.params["booking_id"])
        if booking is None or booking not in self._visible(call, space):
            raise ApiError("Booking not found.", 404)
        return dict(booking)

    async def resources(self, call: CobotCall) -> Response:
        ids = [i for i in call.request.query_params.get("ids", "").split(",") if i]
        return JSONResponse([r for r in call.target["resources"].values() if not ids or r["id"] in ids])

    async def list(self, call: CobotCall) -> Response:
        space: Space = call.target
        start, end = date_range(call.request)
        resource_id = call.params.get("resource_id")
        if resource_id and resource_id not in space["resources"]:
            raise ApiError("Resource not found.", 404)
        found = [
            b
            for b in self._visible(call, space)
            if overlaps(b["from"], b["to"], start, end) and (not resource_id or b["resource"]["id"] == resource_id)
        ]
        found.sort(key=lambda b: b["from"])
        limit = call.request.query_params.get("limit")
        if limit and limit.isdigit():
            found = found[: int(limit)]
        return JSONResponse(found)

    async def show(self, call: CobotCall) -> Response:
        return JSONResponse(self._find(call))

    @staticmethod
    def _window(
        space: Space, resource: dict[str, Any], body: dict[str, Any], ignore: str | None = None
    ) -> tuple[datetime, datetime]:
        errors: dict[str, str] = {}
        moments: dict[str, datetime] = {}
        for name in ("from", "to"):
            try:
                moment = parse_moment(body.get(name))
            except ValueError:
                errors[name] = "is invalid"
                continue
            if moment is None:
                errors[name] = "can't be blank"
            else:
                moments[name] = moment
        if errors:
            raise unprocessable(errors)
        start, end = moments["from"], moments["to"]
        if end <= start:
            raise unprocessable({"to": "must be after from"})
        for other in space["bookings"].values():
            if other["id"] != ignore and other["resource"]["id"] == resource["id"] and not other["canceled"]:
                begin, finish = parse_moment(other["from"]), parse_moment(other["to"])
                assert begin and finish
                if begin < end and finish > start:
                    raise unprocessable({"base": "the resource is already booked at this time"})
        return start, end

    async def create(self, call: CobotCall) -> Response:
        space: Space = call.target
        resource = space["resources"].get(call.params["resource_id"])
        if resource is None:
            raise ApiError("Resource not found.", 404)
        body = await form_body(call.request)
        window = self._window(space, resource, body)
        member: dict[str, Any] | None
        if body.get("membership_id"):
            if not is_admin(call, space):
                raise ApiError("Forbidden: only admins may book for another membership.", 403)
            member = space["memberships"].get(str(body["membership_id"]))
            if member is None:
                raise unprocessable({"membership_id": "is invalid"})
        else:
            member = membership_of(space, user_id(call))
            if member is None and not is_admin(call, space):
                raise ApiError("Forbidden: you are not a member of this space.", 403)
        booking_id = data.cobot_id("booking", space["subdomain"], secrets.token_hex(8))
        record = data.booking_record(
            space, booking_id, resource, member, *window, body.get("title"), body.get("comments")
        )
        with self._lock:
            space["bookings"][booking_id] = record
        self._notify(space, "created_booking", record["url"])
        return JSONResponse(record, status_code=201)

    async def update(self, call: CobotCall) -> Response:
        space: Space = call.target
        booking = self._find(call)
        body = await form_body(call.request)
        merged = {"from": body.get("from", booking["from"]), "to": body.get("to", booking["to"])}
        resource = space["resources"][booking["resource"]["id"]]
        window = self._window(space, resource, merged, ignore=booking["id"])
        member = space["memberships"].get((booking.get("membership") or {}).get("id", ""))
        record = data.booking_record(
            space,
            booking["id"],
            resource,
            member,
            *window,
            body.get("title", booking["title"]),
            body.get("comments", booking["comments"]),
        )
        with self._lock:
            space["bookings"][booking["id"]] = record
        self._notify(space, "updated_booking", record["url"])
        return JSONResponse(record)

    async def delete(self, call: CobotCall) -> Response:
        space: Space = call.target
        booking = self._find(call)
        with self._lock:
            space["bookings"].pop(booking["id"], None)
        self._notify(space, "deleted_booking", booking["url"])
        return Response(status_code=204)
