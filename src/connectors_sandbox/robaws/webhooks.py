"""Robaws webhook endpoints (admin users only) and signed delivery:
``Robaws-Signature: t=<unix time>,v1=hex(HMAC-SHA256(secret, "<t>." + body))``."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

from starlette.responses import JSONResponse, Response

from connectors_sandbox.app import SandboxContext
from connectors_sandbox.common import ApiError
from connectors_sandbox.pipeline import Call, allowed
from connectors_sandbox.robaws.bodies import object_body
from connectors_sandbox.robaws.store import SINGULAR, ValidationFailed, now_iso

EVENTS = sorted(
    {f"{s}.{a}" for s in SINGULAR.values() for a in ("created", "updated", "deleted")}
    | {"article.stock-changed", "document.created"}
)


def page(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A one-page Robaws paging envelope."""
    return {
        "items": items,
        "totalItems": len(items),
        "currentPage": 0,
        "size": max(len(items), 1),
        "totalPages": 1 if items else 0,
    }


class Webhooks:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.endpoints: dict[str, dict[str, Any]] = {}

    def clear(self) -> None:
        self.endpoints = {}

    async def collection(self, call: Call[Any, Any]) -> Response:
        allowed(call, "GET", "POST")
        if call.request.method in ("GET", "HEAD"):
            return JSONResponse(page([_public(e) for e in self.endpoints.values()]))
        body = await object_body(call.request)
        url, events = body.get("url"), body.get("events")
        errors = []
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            errors.append({"field": "url", "message": "url must be an http(s) URL"})
        if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
            errors.append({"field": "events", "message": "events must be a non-empty list of event names"})
        else:
            unknown = [e for e in events if e not in EVENTS]
            if unknown:
                errors.append({"field": "events", "message": f"Unknown event(s): {', '.join(unknown)}"})
        if errors:
            raise ValidationFailed(errors)
        secret = "whsec_" + secrets.token_hex(24)
        self.ctx.remember_secret(secret)
        endpoint_id = str(uuid.uuid4())
        endpoint = {
            "id": endpoint_id,
            "url": url,
            "events": list(dict.fromkeys(events or [])),
            "secret": secret,
            "createdAt": now_iso(),
        }
        self.endpoints[endpoint_id] = endpoint
        return JSONResponse(endpoint, status_code=201)

    async def item(self, call: Call[Any, Any]) -> Response:
        allowed(call, "GET", "DELETE")
        endpoint_id = call.params["endpoint_id"]
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None:
            raise ApiError(f"No webhook endpoint with id {endpoint_id}", 404)
        if call.request.method == "DELETE":
            del self.endpoints[endpoint_id]
            return Response(status_code=204)
        return JSONResponse(_public(endpoint))

    def emit(self, event: str, data: dict[str, Any]) -> None:
        targets = [e for e in self.endpoints.values() if event in e["events"]]
        if not targets:
            return
        body = json.dumps({"id": str(uuid.uuid4()), "event": event, "data": data}).encode()
        stamp = int(time.time())
        for endpoint in targets:
            signature = hmac.new(endpoint["secret"].encode(), f"{stamp}.".encode() + body, hashlib.sha256)
            self.ctx.deliver(
                endpoint["url"],
                body,
                {
                    "Content-Type": "application/json",
                    "User-Agent": "Robaws-Webhooks/1.0",
                    "Robaws-Signature": f"t={stamp},v1={signature.hexdigest()}",
                },
            )


def _public(endpoint: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in endpoint.items() if k != "secret"}
