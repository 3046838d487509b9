"""Test controls of the Cobot sandbox under ``/_sandbox/cobot`` (not Cobot API)."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors_sandbox.admin import admin_body, boolean, number, optional, settings, text
from connectors_sandbox.cobot import data
from connectors_sandbox.common import ApiError

if TYPE_CHECKING:
    from connectors_sandbox.cobot.api import CobotSandbox


def control_routes(cobot: CobotSandbox) -> list[BaseRoute]:
    async def token_policy(request: Request) -> Response:
        """Switch to expiring tokens with refresh tokens (to prove refresh near expiry)."""
        body = settings(await admin_body(request), {"access_ttl": optional(number()), "refresh_tokens": boolean})
        ttl = body.get("access_ttl")
        cobot.oauth.access_ttl = ttl
        cobot.oauth.issue_refresh_tokens = body.get("refresh_tokens", ttl is not None)
        return JSONResponse(cobot.info()["oauth"])

    async def expire_tokens(request: Request) -> Response:
        settings(await admin_body(request), {})
        cobot.oauth.expire_all()
        return JSONResponse({"expired": True})

    async def create_invoice(request: Request) -> Response:
        """Bill a membership now (fires ``created_invoice``)."""
        body = settings(
            await admin_body(request),
            {"membership_id": text, "amount": number(0.0, allow_minimum=True), "description": text},
        )
        space = cobot.spaces.get(request.path_params["subdomain"])
        member = (space or {}).get("memberships", {}).get(body.get("membership_id", ""))
        if space is None or member is None:
            raise ApiError("Space or membership not found.", 404)
        amount = body.get("amount", 100.0)
        today = datetime.now(timezone.utc).date()
        invoice_id = data.cobot_id("invoice", space["subdomain"], secrets.token_hex(8))
        items = [
            {
                "description": body.get("description", "Extra services"),
                "quantity": "1.0",
                "amount": data.money(amount),
                "tax_rate": "21.0",
                "total_amount": data.money(amount),
            }
        ]
        record = data.invoice_record(
            space,
            invoice_id,
            f"{today.year}-{len(space['invoices']) + 1:04d}",
            today,
            member,
            items,
            amount,
            round(amount * 0.21, 2),
            False,
        )
        with cobot.lock:
            space["invoices"][invoice_id] = record
        cobot.subscriptions.notify(space, "created_invoice", record["url"])
        return JSONResponse(record, status_code=201)

    async def limits(request: Request) -> Response:
        """Scale Cobot's limits alone, e.g. for a suite that must not touch the other vendors."""
        body = settings(await admin_body(request), {"scale": number()})
        cobot.limit_scale = body.get("scale", 1.0)
        cobot.window.reset()
        return JSONResponse(cobot.info()["limits"])

    return [
        Route("/limits", limits, methods=["POST"]),
        Route("/token-policy", token_policy, methods=["POST"]),
        Route("/expire-tokens", expire_tokens, methods=["POST"]),
        Route("/spaces/{subdomain}/invoices", create_invoice, methods=["POST"]),
    ]
