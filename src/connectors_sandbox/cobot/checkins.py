"""Cobot check-ins ("work sessions" in the API, for historical reasons): today's check-ins, check-ins in
a time frame, a membership's check-ins, checking in and checking out.

What Cobot leaves open is decided here: a check-in made through the API starts now and lasts until the
end of the day (UTC), like the demo check-ins it joins; checking out ends what is current of the
membership's check-ins now and answers 204 (404 when none is).
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, time, timedelta, timezone
from typing import Any

from starlette.responses import JSONResponse, Response

from connectors_sandbox.cobot import data
from connectors_sandbox.cobot.rules import (
    CobotCall,
    Space,
    date_range,
    is_admin,
    membership_of,
    overlaps,
    own_or_admin,
    user_id,
)
from connectors_sandbox.common import ApiError


def _sorted(found: list[dict[str, Any]]) -> Response:
    return JSONResponse(sorted(found, key=lambda c: c["valid_from"]))


def _current(space: Space, membership_id: str, now: datetime) -> list[dict[str, Any]]:
    moment = data.iso(now)
    return [
        c
        for c in space["check_ins"].values()
        if c["membership_id"] == membership_id and c["valid_from"] <= moment < c["valid_until"]
    ]


class CheckIns:
    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock

    async def today(self, call: CobotCall) -> Response:
        """``GET /api/check_ins``: today's check-ins of the whole space (members and admins)."""
        day = datetime.now(timezone.utc).date().isoformat()
        return _sorted([c for c in call.target["check_ins"].values() if c["valid_from"][:10] == day])

    async def work_sessions(self, call: CobotCall) -> Response:
        """``GET /api/work_sessions?from=&to=``: an admin sees every member's check-ins, a member their own."""
        space: Space = call.target
        start, end = date_range(call.request)
        own = None if is_admin(call, space) else membership_of(space, user_id(call))
        return _sorted(
            [
                c
                for c in space["check_ins"].values()
                if (own is None or c["membership_id"] == own["id"])
                and overlaps(c["valid_from"], c["valid_until"], start, end)
            ]
        )

    async def of_membership(self, call: CobotCall) -> Response:
        """``GET /api/memberships/{id}/check_ins?from=&to=``."""
        member = own_or_admin(call, call.target, call.params["membership_id"])
        start, end = date_range(call.request)
        return _sorted(
            [
                c
                for c in call.target["check_ins"].values()
                if c["membership_id"] == member["id"] and overlaps(c["valid_from"], c["valid_until"], start, end)
            ]
        )

    async def check_in(self, call: CobotCall) -> Response:
        """``POST /api/memberships/{id}/work_sessions``: check the membership in now."""
        space: Space = call.target
        member = own_or_admin(call, space, call.params["membership_id"])
        now = datetime.now(timezone.utc).replace(microsecond=0)
        end = datetime.combine(now.date(), time(23, 59, 59), tzinfo=timezone.utc)
        check_in_id = data.cobot_id("check_in", space["subdomain"], secrets.token_hex(8))
        record = data.check_in_record(check_in_id, member, now, max(end, now + timedelta(seconds=1)))
        with self._lock:
            space["check_ins"][check_in_id] = record
        return JSONResponse(record, status_code=201)

    async def check_out(self, call: CobotCall) -> Response:
        """``DELETE /api/memberships/{id}/check_ins/current``: end the membership's current check-in(s) now."""
        space: Space = call.target
        member = own_or_admin(call, space, call.params["membership_id"])
        now = datetime.now(timezone.utc).replace(microsecond=0)
        with self._lock:
            current = _current(space, member["id"], now)
            if not current:
                raise ApiError("This membership is not checked in.", 404)
            for check_in in current:
                check_in["valid_until"] = data.iso(now)
        return Response(status_code=204)
