"""Cobot's user-level endpoints on spaces and tokens: space details (public), creating and updating a
space, and access-token management (scope, revoke, a space-owned token)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connectors_sandbox.cobot import data
from connectors_sandbox.cobot.rules import CobotCall, form_body, unprocessable, user_id
from connectors_sandbox.common import ApiError

if TYPE_CHECKING:
    from connectors_sandbox.cobot.api import CobotSandbox

SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED = ("www", "api", "dev")
EDITABLE = ("name", "description", "time_zone_name", "country", "email", "locale")


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return value.strip() if isinstance(value, str) else ""


class Spaces:
    def __init__(self, cobot: CobotSandbox) -> None:
        self.cobot = cobot

    def _space(self, subdomain: str) -> dict[str, Any]:
        space = self.cobot.spaces.get(subdomain)
        if space is None:
            raise ApiError("Space not found.", 404)
        return space

    async def details(self, request: Request) -> Response:
        """``GET /api/spaces/{subdomain}``: public, no authentication."""
        return JSONResponse(data.public_space(self._space(request.path_params["subdomain"])))

    async def create(self, call: CobotCall) -> Response:
        """``POST /api/spaces`` (scope ``write``): the caller becomes the space's owner and admin."""
        body = await form_body(call.request)
        name, subdomain = _text(body, "name"), _text(body, "subdomain").lower()
        errors = {}
        if not name:
            errors["name"] = "can't be blank"
        if not subdomain:
            errors["subdomain"] = "can't be blank"
        elif not SUBDOMAIN.match(subdomain):
            errors["subdomain"] = "is invalid"
        elif subdomain in RESERVED:
            errors["subdomain"] = "is reserved"
        elif subdomain in self.cobot.spaces:
            errors["subdomain"] = "has already been taken"
        if errors:
            raise unprocessable(errors)
        details = {key: _text(body, key) for key in EDITABLE if _text(body, key) and key != "name"}
        space = data.new_space(subdomain, self.cobot.space_url(subdomain), name, user_id(call), **details)
        if not self.cobot.add_space(space):
            raise unprocessable({"subdomain": "has already been taken"})
        return JSONResponse(data.public_space(space), status_code=201)

    async def update(self, call: CobotCall) -> Response:
        """``PUT /api/spaces/{subdomain}`` (scope ``write``, space admins)."""
        space = call.target
        body = await form_body(call.request)
        changes = {key: _text(body, key) for key in EDITABLE if key in body}
        if "name" in changes and not changes["name"]:
            raise unprocessable({"name": "can't be blank"})
        with self.cobot.lock:
            space.update(changes)
        return JSONResponse(data.public_space(space))

    # -- access tokens ---------------------------------------------------------------------------
    def _own_token(self, call: CobotCall) -> tuple[str, Any]:
        token = call.params["token"]
        grant = self.cobot.lookup(token)
        if grant is None or str(grant.user["id"]) != user_id(call):
            raise ApiError("Access token not found.", 404)
        return token, grant

    async def token_info(self, call: CobotCall) -> Response:
        """``GET /api/access_tokens/{token}`` → ``{"scope": [...]}``; ``DELETE`` revokes it (204)."""
        token, grant = self._own_token(call)
        if call.request.method == "DELETE":
            self.cobot.revoke(token)
            return Response(status_code=204)
        return JSONResponse({"scope": list(grant.scopes)})

    async def space_token(self, call: CobotCall) -> Response:
        """``POST /api/access_tokens/{token}/space`` ``{"space_id"}``: a token of the same scope that
        belongs to the space (it keeps working for that space's API)."""
        _token, grant = self._own_token(call)
        body = await form_body(call.request)
        space_id = _text(body, "space_id")
        if not space_id:
            raise unprocessable({"space_id": "can't be blank"})
        space = next((s for s in self.cobot.spaces.values() if s["id"] == space_id), None)
        if space is None:
            raise ApiError("Space not found.", 404)
        if user_id(call) not in space["admins"]:
            raise ApiError("Forbidden: only admins of this space may do this.", 403)
        token = self.cobot.mint_space_token(grant, space["subdomain"])
        return JSONResponse(
            {"scope": list(grant.scopes), "token": token, "client_id": grant.client_id}, status_code=201
        )
