"""Cobot webhook subscriptions (API v1): subscribe, list, show, unsubscribe, and delivery as documented:
the callback must answer 2xx; redirects are not followed; a 410 deactivates the subscription at once;
up to 10 retries over up to 20 hours, then the subscription is deactivated.

The sandbox spaces the retries exponentially (70 s, 140 s, … 9.9 h: 19.9 h in all) in sandbox time, so
``time_scale`` in ``/_sandbox/config`` makes a test see the end of the schedule in a moment.
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlparse

from starlette.responses import JSONResponse, Response

from connectors_sandbox.app import SandboxContext
from connectors_sandbox.cobot import data
from connectors_sandbox.cobot.rules import CobotCall, Space, form_body, unprocessable
from connectors_sandbox.common import ApiError
from connectors_sandbox.delivery import DELIVERED, RetrySchedule

EVENTS = [
    "created_membership",
    "confirmed_membership",
    "canceled_membership",
    "changed_membership_plan",
    "created_booking",
    "updated_booking",
    "deleted_booking",
    "created_invoice",
    "created_checkin",
    "created_time_pass",
]
SCHEDULE = RetrySchedule(delays=tuple(70.0 * 2**n for n in range(10)), timeout=2.0, final_statuses=frozenset({410}))


class Subscriptions:
    def __init__(self, ctx: SandboxContext, lock: threading.Lock) -> None:
        self.ctx = ctx
        self._lock = lock

    async def list(self, call: CobotCall) -> Response:
        return JSONResponse(list(call.target["subscriptions"].values()))

    async def show(self, call: CobotCall) -> Response:
        found = call.target["subscriptions"].get(call.params["subscription_id"])
        if found is None:
            raise ApiError("Subscription not found.", 404)
        return JSONResponse(found)

    async def subscribe(self, call: CobotCall) -> Response:
        space: Space = call.target
        body = await form_body(call.request)
        event, callback = str(body.get("event") or ""), str(body.get("callback_url") or "")
        errors: dict[str, str] = {}
        if not event:
            errors["event"] = "can't be blank"
        elif event not in EVENTS:
            errors["event"] = "is not included in the list"
        parsed = urlparse(callback)
        if not callback:
            errors["callback_url"] = "can't be blank"
        elif parsed.scheme not in ("http", "https") or not parsed.netloc:
            errors["callback_url"] = "is invalid"
        if errors:
            raise unprocessable(errors)
        with self._lock:
            for existing in space["subscriptions"].values():
                if existing["event"] == event and existing["callback_url"] == callback:
                    raise ApiError("A subscription for this event and callback URL already exists.", 409)
            subscription_id = data.cobot_id("subscription", space["subdomain"], secrets.token_hex(8))
            record = {
                "id": subscription_id,
                "event": event,
                "callback_url": callback,
                "active": True,
                "url": f"{space['url']}/api/subscriptions/{subscription_id}",
                "created_at": data.iso(datetime.now(timezone.utc)),
            }
            space["subscriptions"][subscription_id] = record
        return JSONResponse(record, status_code=201)

    async def unsubscribe(self, call: CobotCall) -> Response:
        with self._lock:
            found = call.target["subscriptions"].pop(call.params["subscription_id"], None)
        if found is None:
            raise ApiError("Subscription not found.", 404)
        return Response(status_code=204)

    def notify(self, space: Space, event: str, resource_url: str) -> None:
        body = json.dumps({"url": resource_url}).encode()
        for subscription in list(space["subscriptions"].values()):
            if subscription["active"] and subscription["event"] == event:
                self.ctx.deliver(
                    subscription["callback_url"],
                    body,
                    {"Content-Type": "application/json"},
                    SCHEDULE,
                    lambda outcome, record=subscription: self._outcome(record, outcome),
                )

    def _outcome(self, subscription: dict[str, Any], outcome: str) -> None:
        if outcome != DELIVERED:  # gone (410) or retries ran out
            with self._lock:
                subscription["active"] = False
