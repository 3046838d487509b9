"""Cobot's user and membership data: the current user, memberships, invoices and unused time passes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.responses import JSONResponse, Response

from connectors_sandbox.cobot.rules import CobotCall, Space, date_range, membership_of, own_or_admin, user_id
from connectors_sandbox.common import ApiError


class Members:
    def __init__(self, spaces: Callable[[], dict[str, Space]], base: str) -> None:
        self._spaces = spaces
        self._base = base

    async def user(self, call: CobotCall) -> Response:
        """``GET /api/user``: the user, the spaces they are a member of and those they administer."""
        uid = user_id(call)
        memberships, admin_of = [], []
        for subdomain, space in sorted(self._spaces().items()):
            member = membership_of(space, uid)
            link = f"{self._base}/api/spaces/{subdomain}"
            if member:
                memberships.append(
                    {
                        "id": member["id"],
                        "space_subdomain": subdomain,
                        "space_name": space["name"],
                        "space_link": link,
                        "name": member["name"],
                        "link": f"{space['url']}/api/memberships/{member['id']}",
                    }
                )
            if uid in space["admins"]:
                admin_of.append(
                    {
                        "space_subdomain": subdomain,
                        "space_name": space["name"],
                        "space_link": link,
                        "name": call.principal.user.get("email"),
                    }
                )
        return JSONResponse(
            {"id": uid, "email": call.principal.user.get("email"), "memberships": memberships, "admin_of": admin_of}
        )

    async def memberships(self, call: CobotCall) -> Response:
        return JSONResponse(list(call.target["memberships"].values()))

    async def membership(self, call: CobotCall) -> Response:
        return JSONResponse(own_or_admin(call, call.target, call.params["membership_id"]))

    async def invoices(self, call: CobotCall) -> Response:
        space: Space = call.target
        ids = [i for i in call.request.query_params.get("ids", "").split(",") if i]
        if ids:
            found = [i for i in space["invoices"].values() if i["id"] in ids]
        else:
            start, end = date_range(call.request)
            found = [
                i
                for i in space["invoices"].values()
                if start.date() <= date.fromisoformat(i["invoice_date"]) <= end.date()
            ]
        found.sort(key=lambda i: (i["invoice_date"], i["invoice_number"]))
        return JSONResponse(found)

    async def time_passes(self, call: CobotCall) -> Response:
        """A membership's unused time passes, or (admins) every membership's."""
        space: Space = call.target
        membership_id = call.params.get("membership_id")
        if membership_id:
            own_or_admin(call, space, membership_id)
        elif user_id(call) not in space["admins"]:
            raise ApiError("Forbidden: only admins of this space may do this.", 403)
        found: list[dict[str, Any]] = [
            p
            for p in space["time_passes"].values()
            if not p["used"] and (not membership_id or p["membership_id"] == membership_id)
        ]
        return JSONResponse(found)
