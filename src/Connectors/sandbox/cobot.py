"""The Cobot emulation under ``/cobot``: OAuth2 + OpenID Connect, the v1 REST API of spaces,
memberships, bookings, resources, invoices, check-ins, time passes and webhook subscriptions.

Layout (``COBOT_URL=<sandbox>/cobot``):
- user level, like ``https://www.cobot.me``: ``/oauth/authorize``, ``/oauth/access_token``,
  ``/.well-known/openid-configuration``, ``/jwks.json``, ``/api/userinfo``, ``/api/user``,
  ``/api/spaces/{subdomain}``, ``/api/access_tokens/{token}``;
- space level, like ``https://<subdomain>.cobot.me``: everything under ``/spaces/{subdomain}``,
  including the space's own OpenID provider (its id tokens add the membership's name, picture and
  phone number).

Rate limits follow the documentation: 60 requests per minute per user, ``GET /api/memberships`` 6 per
minute, both scaled by ``--rate-scale``. They are counted like Rack::Attack (the usual throttle of a
Rails application such as Cobot): a fixed one-minute window per user, ``429`` with a JSON error and
``Retry-After`` = the seconds left in the window.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlparse

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from Connectors.sandbox import cobot_data
from Connectors.sandbox.app import SandboxContext, VendorSandbox
from Connectors.sandbox.common import bearer_token, ceil_seconds, json_body
from Connectors.sandbox.oauth import Grant, OAuthClient, OAuthServer

SCOPES = [
    "read_user",
    "write",
    "read_memberships",
    "write_memberships",
    "read_bookings",
    "write_bookings",
    "read_resources",
    "read_invoices",
    "write_invoices",
    "read_check_ins",
    "checkin",
    "read_time_passes",
    "read_teams",
    "read_subscriptions",
    "write_subscriptions",
    "signin",
    "read_charges",
    "write_charges",
    "navigation",
]
WEBHOOK_EVENTS = [
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
DEMO_CLIENT_ID = "cobot-demo-client"
# Fixed demo credentials (like the other vendors' demo passwords), so devdata/env.json can point a
# robot at a sandbox started by hand; they are fake and valid only here.
DEMO_CLIENT_SECRET = "cobot-demo-secret-4e9d2a7c81f05b36"
DEMO_ADMIN_TOKEN = "cbt-demo-admin-0c7f3e9a2d5b4816"
DEMO_MEMBER_TOKEN = "cbt-demo-member-8a1d6f2c9e4b7053"
DEMO_LIMITED_TOKEN = "cbt-demo-limited-5b3e8d1f7a2c6094"
USER_LIMIT_PER_MINUTE = 60
MEMBERSHIPS_LIMIT_PER_MINUTE = 6
OAUTH_PATHS = {
    "authorize": "/oauth/authorize",
    "token": "/oauth/access_token",
    "discovery": "/.well-known/openid-configuration",
    "jwks": "/jwks.json",
    "userinfo": "/api/userinfo",
}

Handler = Callable[[Request, Grant, dict[str, Any]], Awaitable[Response]]


class FixedWindow:
    """Counts requests per key in windows of ``period`` seconds aligned to the epoch (Rack::Attack)."""

    def __init__(self, period: float = 60.0) -> None:
        self.period = period
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def take(self, key: str, limit: int) -> tuple[bool, float]:
        """(allowed, seconds until the window ends)."""
        now = time.time()
        window = int(now // self.period)
        left = (window + 1) * self.period - now
        with self._lock:
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
            if len(self._counts) > 10_000:  # forget old windows
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
        return count <= limit, left

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _unprocessable(errors: dict[str, str]) -> JSONResponse:
    return JSONResponse({"errors": errors}, status_code=422)


def _parse_moment(value: Any, *, end_of_day: bool = False) -> datetime | None:
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


class CobotSandbox(VendorSandbox):
    name = "cobot"

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx)
        self.base = ctx.base_url + "/cobot"
        self.space_url_template = self.base + "/spaces/{subdomain}"
        self.client_secret = DEMO_CLIENT_SECRET
        ctx.remember_secret(self.client_secret)
        self.clients = [OAuthClient(DEMO_CLIENT_ID, self.client_secret, name="Cobot demo app")]
        self.oauth = self._oauth_server(self.base, cobot_data.USERS)
        # Each space is its own OpenID provider (own issuer, endpoints and signing key).
        self.space_oauth = {
            sub: self._oauth_server(self.space_url_template.format(subdomain=sub), [])
            for sub in (cobot_data.DEMO_SPACE, cobot_data.OTHER_SPACE)
        }
        self.window = FixedWindow()
        # A Cobot-only speed-up on top of --rate-scale (kept across resets; see /_sandbox/cobot/limits).
        self.limit_scale = 1.0
        self._lock = threading.Lock()
        self.spaces: dict[str, dict[str, Any]] = {}
        self.revoked: set[str] = set()
        # Demo tokens outlive resets, so a robot or suite that read them once keeps working.
        self.demo_tokens: dict[str, Grant] = {}
        self.admin_token = self._demo_token(DEMO_ADMIN_TOKEN, cobot_data.ALICE, SCOPES)
        self.member_token = self._demo_token(
            DEMO_MEMBER_TOKEN,
            cobot_data.BOB,
            [
                "read_user",
                "read_bookings",
                "write_bookings",
                "read_resources",
                "read_check_ins",
                "read_time_passes",
                "read_memberships",
            ],
        )
        self.limited_token = self._demo_token(DEMO_LIMITED_TOKEN, cobot_data.ALICE, ["read_user", "read_bookings"])

    def _oauth_server(self, issuer: str, users: list[dict[str, Any]]) -> OAuthServer:
        return OAuthServer(
            issuer=issuer,
            clients=self.clients,
            users=users,
            scopes=SCOPES,
            access_ttl=None,
            issue_refresh_tokens=False,
            openid=True,
            paths=OAUTH_PATHS,
            remember_secret=self.ctx.remember_secret,
        )

    def _demo_token(self, token: str, user: dict[str, Any], scopes: list[str]) -> str:
        self.ctx.remember_secret(token)
        self.demo_tokens[token] = Grant(user, DEMO_CLIENT_ID, tuple(scopes))
        return token

    # -- lifecycle ---------------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.spaces = cobot_data.build(self.space_url_template) if self.ctx.options.demo else {}
            self.revoked.clear()
        self.window.reset()
        self.oauth.reset()
        # Cobot's documented behaviour: long-lived tokens without refresh tokens.
        self.oauth.access_ttl = None
        self.oauth.issue_refresh_tokens = False
        for subdomain, server in self.space_oauth.items():
            server.reset()
            server.users = self._space_users(subdomain)

    def _space_users(self, subdomain: str) -> list[dict[str, Any]]:
        space = self.spaces.get(subdomain)
        users = []
        for user in cobot_data.USERS:
            entry: dict[str, Any] = dict(user)
            member = self._membership_of(space, user["id"]) if space else None
            if member:
                entry.update(name=member["name"], picture=member["picture"], phone_number=member["phone"] or None)
            users.append(entry)
        return users

    def info(self) -> dict[str, Any]:
        return {
            "env": {
                "COBOT_ACCESS_TOKEN": self.admin_token,
                "COBOT_LIMITED_ACCESS_TOKEN": self.limited_token,
                "COBOT_MEMBER_ACCESS_TOKEN": self.member_token,
                "COBOT_CLIENT_ID": DEMO_CLIENT_ID,
                "COBOT_CLIENT_SECRET": self.client_secret,
                "COBOT_SPACE_URL_TEMPLATE": self.space_url_template,
                "COBOT_SPACE": cobot_data.DEMO_SPACE,
            },
            "spaces": sorted(self.spaces),
            "limits": {
                "user_per_minute": self._limit(USER_LIMIT_PER_MINUTE),
                "memberships_per_minute": self._limit(MEMBERSHIPS_LIMIT_PER_MINUTE),
            },
            "oauth": {
                "access_ttl": self.oauth.access_ttl,
                "refresh_tokens": self.oauth.issue_refresh_tokens,
                "refresh_count": self.oauth.refresh_count,
            },
        }

    def _limit(self, per_minute: int) -> int:
        return max(1, round(self.ctx.scaled(per_minute) * self.limit_scale))

    # -- authentication, scopes, limits ---------------------------------------------------------
    def _grant(self, request: Request) -> Grant | None:
        token = bearer_token(request)
        if not token or token in self.revoked:
            return None
        grant = self.demo_tokens.get(token)
        if grant is not None:
            return grant
        for server in (self.oauth, *self.space_oauth.values()):
            grant = server.grant_for(request)
            if grant is not None:
                return grant
        return None

    def _api(
        self,
        handler: Handler,
        scopes: tuple[str, ...],
        *,
        admin: bool = False,
        endpoint_limit: int | None = None,
        space_level: bool = True,
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            grant = self._grant(request)
            if grant is None:
                return _error(
                    401,
                    "Unauthorized: a valid OAuth2 access token is required (Authorization: Bearer <token>).",
                )
            user_id = str(grant.user["id"])
            allowed, left = self.window.take(f"user:{user_id}", self._limit(USER_LIMIT_PER_MINUTE))
            if allowed and endpoint_limit is not None:
                allowed, left = self.window.take(f"endpoint:{request.url.path}:{user_id}", self._limit(endpoint_limit))
            if not allowed:
                wait = ceil_seconds(left)
                response = _error(429, f"Rate limit exceeded. Retry in {wait} seconds.")
                response.headers["Retry-After"] = str(wait)
                return response
            if scopes and not set(scopes) & set(grant.scopes):
                return _error(403, f"Forbidden: this call needs the scope {' or '.join(scopes)}.")
            space: dict[str, Any] = {}
            if space_level:
                found = self.spaces.get(request.path_params.get("subdomain", ""))
                if found is None:
                    return _error(404, "Space not found.")
                space = found
                if admin and user_id not in space["admins"]:
                    return _error(403, "Forbidden: only admins of this space may do this.")
            return await handler(request, grant, space)

        return endpoint

    # -- user level -------------------------------------------------------------------------
    async def user(self, request: Request, grant: Grant, _space: dict[str, Any]) -> Response:
        user_id = str(grant.user["id"])
        memberships, admin_of = [], []
        for subdomain, space in sorted(self.spaces.items()):
            member = self._membership_of(space, user_id)
            link = f"{self.base}/api/spaces/{subdomain}"
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
            if user_id in space["admins"]:
                admin_of.append(
                    {
                        "space_subdomain": subdomain,
                        "space_name": space["name"],
                        "space_link": link,
                        "name": grant.user.get("email"),
                    }
                )
        return JSONResponse(
            {
                "id": user_id,
                "email": grant.user.get("email"),
                "memberships": memberships,
                "admin_of": admin_of,
            }
        )

    async def space_details(self, request: Request) -> Response:
        space = self.spaces.get(request.path_params["subdomain"])
        if space is None:
            return _error(404, "Space not found.")
        return JSONResponse(self._public_space(space))

    @staticmethod
    def _public_space(space: dict[str, Any]) -> dict[str, Any]:
        keys = (
            "id",
            "subdomain",
            "name",
            "url",
            "email",
            "description",
            "country",
            "currency",
            "tax_rate",
            "locale",
            "time_zone_name",
            "created_at",
        )
        return {key: space[key] for key in keys}

    async def access_token(self, request: Request) -> Response:
        token = request.path_params["token"]
        # The token travels in the path here; look it up as if it had been presented as a bearer.
        fake = Request({"type": "http", "headers": [(b"authorization", f"Bearer {token}".encode())]})
        grant = self._grant(fake)
        if grant is None:
            return _error(404, "Access token not found.")
        if request.method == "DELETE":
            self.revoked.add(token)
            return Response(status_code=204)
        return JSONResponse({"scope": list(grant.scopes), "client_id": grant.client_id})

    # -- memberships ------------------------------------------------------------------------
    @staticmethod
    def _membership_of(space: dict[str, Any] | None, user_id: str) -> dict[str, Any] | None:
        for member in (space or {}).get("memberships", {}).values():
            if member.get("user") and member["user"]["id"] == user_id:
                return dict(member)
        return None

    async def memberships(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        return JSONResponse(list(space["memberships"].values()))

    def _own_or_admin(self, grant: Grant, space: dict[str, Any], membership_id: str) -> Response | dict[str, Any]:
        member = space["memberships"].get(membership_id)
        if member is None:
            return _error(404, "Membership not found.")
        user_id = str(grant.user["id"])
        if user_id not in space["admins"] and (member.get("user") or {}).get("id") != user_id:
            return _error(403, "Forbidden: you may only see your own membership.")
        return dict(member)

    async def membership(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        found = self._own_or_admin(grant, space, request.path_params["membership_id"])
        return found if isinstance(found, Response) else JSONResponse(found)

    # -- bookings ---------------------------------------------------------------------------
    def _range(self, request: Request, required: bool = True) -> tuple[datetime, datetime] | JSONResponse:
        q = request.query_params
        errors: dict[str, str] = {}
        moments: dict[str, datetime | None] = {}
        for name in ("from", "to"):
            try:
                moments[name] = _parse_moment(q.get(name), end_of_day=name == "to")
            except ValueError:
                errors[name] = "is invalid"
                continue
            if moments[name] is None and required:
                errors[name] = "can't be blank"
        if errors:
            return _unprocessable(errors)
        start = moments.get("from") or datetime(1970, 1, 1, tzinfo=timezone.utc)
        end = moments.get("to") or datetime(2999, 1, 1, tzinfo=timezone.utc)
        if end < start:
            return _unprocessable({"to": "must be after from"})
        return start, end

    @staticmethod
    def _overlaps(record: dict[str, Any], start: datetime, end: datetime) -> bool:
        begin = _parse_moment(record["from"])
        finish = _parse_moment(record["to"])
        assert begin and finish
        return begin <= end and finish >= start

    def _visible_bookings(self, grant: Grant, space: dict[str, Any]) -> list[dict[str, Any]]:
        bookings = list(space["bookings"].values())
        user_id = str(grant.user["id"])
        if user_id in space["admins"]:
            return bookings
        own = self._membership_of(space, user_id)
        return [b for b in bookings if own and (b.get("membership") or {}).get("id") == own["id"]]

    async def bookings(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        window = self._range(request)
        if isinstance(window, Response):
            return window
        resource_id = request.path_params.get("resource_id")
        if resource_id and resource_id not in space["resources"]:
            return _error(404, "Resource not found.")
        found = [
            b
            for b in self._visible_bookings(grant, space)
            if self._overlaps(b, *window) and (not resource_id or b["resource"]["id"] == resource_id)
        ]
        found.sort(key=lambda b: b["from"])
        limit = request.query_params.get("limit")
        if limit and limit.isdigit():
            found = found[: int(limit)]
        return JSONResponse(found)

    async def booking(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        booking = space["bookings"].get(request.path_params["booking_id"])
        if booking is None or booking not in self._visible_bookings(grant, space):
            return _error(404, "Booking not found.")
        return JSONResponse(booking)

    async def _form(self, request: Request) -> dict[str, Any]:
        if "json" in request.headers.get("content-type", ""):
            body = await json_body(request)
            return body if isinstance(body, dict) else {}
        return {k: str(v) for k, v in (await request.form()).items()}

    def _validate_booking(
        self, space: dict[str, Any], resource: dict[str, Any], body: dict[str, Any], ignore: str | None = None
    ) -> tuple[datetime, datetime] | JSONResponse:
        errors: dict[str, str] = {}
        moments: dict[str, datetime] = {}
        for name in ("from", "to"):
            try:
                moment = _parse_moment(body.get(name))
            except ValueError:
                errors[name] = "is invalid"
                continue
            if moment is None:
                errors[name] = "can't be blank"
            else:
                moments[name] = moment
        if errors:
            return _unprocessable(errors)
        start, end = moments["from"], moments["to"]
        if end <= start:
            return _unprocessable({"to": "must be after from"})
        for other in space["bookings"].values():
            if other["id"] != ignore and other["resource"]["id"] == resource["id"] and not other["canceled"]:
                begin, finish = _parse_moment(other["from"]), _parse_moment(other["to"])
                assert begin and finish
                if begin < end and finish > start:
                    return _unprocessable({"base": "the resource is already booked at this time"})
        return start, end

    async def create_booking(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        resource = space["resources"].get(request.path_params["resource_id"])
        if resource is None:
            return _error(404, "Resource not found.")
        body = await self._form(request)
        window = self._validate_booking(space, resource, body)
        if isinstance(window, Response):
            return window
        user_id = str(grant.user["id"])
        member: dict[str, Any] | None
        if body.get("membership_id"):
            if user_id not in space["admins"]:
                return _error(403, "Forbidden: only admins may book for another membership.")
            member = space["memberships"].get(str(body["membership_id"]))
            if member is None:
                return _unprocessable({"membership_id": "is invalid"})
        else:
            member = self._membership_of(space, user_id)
            if member is None and user_id not in space["admins"]:
                return _error(403, "Forbidden: you are not a member of this space.")
        booking_id = cobot_data.cobot_id("booking", space["subdomain"], secrets.token_hex(8))
        record = cobot_data.booking_record(
            space, booking_id, resource, member, *window, body.get("title"), body.get("comments")
        )
        with self._lock:
            space["bookings"][booking_id] = record
        self._notify(space, "created_booking", record["url"])
        return JSONResponse(record, status_code=201)

    async def update_booking(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        booking = space["bookings"].get(request.path_params["booking_id"])
        if booking is None or booking not in self._visible_bookings(grant, space):
            return _error(404, "Booking not found.")
        body = await self._form(request)
        merged = {"from": body.get("from", booking["from"]), "to": body.get("to", booking["to"])}
        resource = space["resources"][booking["resource"]["id"]]
        window = self._validate_booking(space, resource, merged, ignore=booking["id"])
        if isinstance(window, Response):
            return window
        member = space["memberships"].get((booking.get("membership") or {}).get("id", ""))
        record = cobot_data.booking_record(
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

    async def delete_booking(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        booking = space["bookings"].get(request.path_params["booking_id"])
        if booking is None or booking not in self._visible_bookings(grant, space):
            return _error(404, "Booking not found.")
        with self._lock:
            space["bookings"].pop(booking["id"], None)
        self._notify(space, "deleted_booking", booking["url"])
        return Response(status_code=204)

    # -- resources, invoices, check-ins, time passes ----------------------------------------
    async def resources(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        found = [r for r in space["resources"].values() if not ids or r["id"] in ids]
        return JSONResponse(found)

    async def invoices(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if ids:
            found = [i for i in space["invoices"].values() if i["id"] in ids]
        else:
            window = self._range(request)
            if isinstance(window, Response):
                return window
            start, end = window
            found = [
                i
                for i in space["invoices"].values()
                if start.date() <= date.fromisoformat(i["invoice_date"]) <= end.date()
            ]
        found.sort(key=lambda i: (i["invoice_date"], i["invoice_number"]))
        return JSONResponse(found)

    async def check_ins(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        today = datetime.now(timezone.utc).date().isoformat()
        found = [c for c in space["check_ins"].values() if c["valid_from"][:10] == today]
        return JSONResponse(sorted(found, key=lambda c: c["valid_from"]))

    async def membership_check_ins(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        member = self._own_or_admin(grant, space, request.path_params["membership_id"])
        if isinstance(member, Response):
            return member
        window = self._range(request)
        if isinstance(window, Response):
            return window
        found = [
            c
            for c in space["check_ins"].values()
            if c["membership_id"] == member["id"]
            and self._overlaps({"from": c["valid_from"], "to": c["valid_until"]}, *window)
        ]
        return JSONResponse(sorted(found, key=lambda c: c["valid_from"]))

    async def time_passes(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        membership_id = request.path_params.get("membership_id")
        if membership_id:
            member = self._own_or_admin(grant, space, membership_id)
            if isinstance(member, Response):
                return member
        elif str(grant.user["id"]) not in space["admins"]:
            return _error(403, "Forbidden: only admins of this space may do this.")
        found = [
            p
            for p in space["time_passes"].values()
            if not p["used"] and (not membership_id or p["membership_id"] == membership_id)
        ]
        return JSONResponse(found)

    # -- webhook subscriptions ----------------------------------------------------------------
    async def subscriptions(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        return JSONResponse(list(space["subscriptions"].values()))

    async def subscription(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        found = space["subscriptions"].get(request.path_params["subscription_id"])
        if found is None:
            return _error(404, "Subscription not found.")
        return JSONResponse(found)

    async def subscribe(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        body = await self._form(request)
        event, callback = str(body.get("event") or ""), str(body.get("callback_url") or "")
        errors: dict[str, str] = {}
        if not event:
            errors["event"] = "can't be blank"
        elif event not in WEBHOOK_EVENTS:
            errors["event"] = "is not included in the list"
        parsed = urlparse(callback)
        if not callback:
            errors["callback_url"] = "can't be blank"
        elif parsed.scheme not in ("http", "https") or not parsed.netloc:
            errors["callback_url"] = "is invalid"
        if errors:
            return _unprocessable(errors)
        with self._lock:
            for existing in space["subscriptions"].values():
                if existing["event"] == event and existing["callback_url"] == callback:
                    return _error(409, "A subscription for this event and callback URL already exists.")
            subscription_id = cobot_data.cobot_id("subscription", space["subdomain"], secrets.token_hex(8))
            record = {
                "id": subscription_id,
                "event": event,
                "callback_url": callback,
                "active": True,
                "url": f"{space['url']}/api/subscriptions/{subscription_id}",
                "created_at": cobot_data.iso(datetime.now(timezone.utc)),
            }
            space["subscriptions"][subscription_id] = record
        return JSONResponse(record, status_code=201)

    async def unsubscribe(self, request: Request, grant: Grant, space: dict[str, Any]) -> Response:
        with self._lock:
            found = space["subscriptions"].pop(request.path_params["subscription_id"], None)
        if found is None:
            return _error(404, "Subscription not found.")
        return Response(status_code=204)

    def _notify(self, space: dict[str, Any], event: str, resource_url: str) -> None:
        body = json.dumps({"url": resource_url}).encode()
        for subscription in list(space["subscriptions"].values()):
            if subscription["active"] and subscription["event"] == event:
                self.ctx.deliver(subscription["callback_url"], body, {"Content-Type": "application/json"})

    # -- per-space OpenID provider ------------------------------------------------------------
    def _space_oauth(self, method: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            server = self.space_oauth.get(request.path_params["subdomain"])
            if server is None or request.path_params["subdomain"] not in self.spaces:
                return _error(404, "Space not found.")
            result: Response = await getattr(server, method)(request)
            return result

        return endpoint

    # -- routes -------------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        api = self._api
        bookings_read = ("read_bookings", "write_bookings")
        space_routes: list[BaseRoute] = [
            Route(OAUTH_PATHS["authorize"], self._space_oauth("authorize"), methods=["GET"]),
            Route(OAUTH_PATHS["token"], self._space_oauth("token"), methods=["POST"]),
            Route(OAUTH_PATHS["discovery"], self._space_oauth("discovery"), methods=["GET"]),
            Route(OAUTH_PATHS["jwks"], self._space_oauth("jwks"), methods=["GET"]),
            Route(OAUTH_PATHS["userinfo"], self._space_oauth("userinfo"), methods=["GET"]),
            Route(
                "/api/memberships",
                api(
                    self.memberships,
                    ("read_memberships",),
                    admin=True,
                    endpoint_limit=MEMBERSHIPS_LIMIT_PER_MINUTE,
                ),
                methods=["GET"],
            ),
            Route(
                "/api/memberships/{membership_id}",
                api(self.membership, ("read_memberships",)),
                methods=["GET"],
            ),
            Route(
                "/api/memberships/{membership_id}/check_ins",
                api(self.membership_check_ins, ("read_check_ins",)),
                methods=["GET"],
            ),
            Route(
                "/api/memberships/{membership_id}/time_passes/unused",
                api(self.time_passes, ("read_time_passes",)),
                methods=["GET"],
            ),
            Route("/api/bookings", api(self.bookings, bookings_read), methods=["GET"]),
            Route("/api/bookings/{booking_id}", api(self.booking, bookings_read), methods=["GET"]),
            Route("/api/bookings/{booking_id}", api(self.update_booking, ("write_bookings",)), methods=["PUT"]),
            Route(
                "/api/bookings/{booking_id}",
                api(self.delete_booking, ("write_bookings",)),
                methods=["DELETE"],
            ),
            Route("/api/resources", api(self.resources, ("read_resources",)), methods=["GET"]),
            Route("/api/resources/{resource_id}/bookings", api(self.bookings, bookings_read), methods=["GET"]),
            Route(
                "/api/resources/{resource_id}/bookings",
                api(self.create_booking, ("write_bookings",)),
                methods=["POST"],
            ),
            Route("/api/invoices", api(self.invoices, ("read_invoices",), admin=True), methods=["GET"]),
            Route("/api/check_ins", api(self.check_ins, ("read_check_ins",), admin=True), methods=["GET"]),
            Route("/api/time_passes/unused", api(self.time_passes, ("read_time_passes",)), methods=["GET"]),
            Route(
                "/api/subscriptions",
                api(self.subscriptions, ("read_subscriptions", "write_subscriptions"), admin=True),
                methods=["GET"],
            ),
            Route(
                "/api/subscriptions",
                api(self.subscribe, ("write_subscriptions",), admin=True),
                methods=["POST"],
            ),
            Route(
                "/api/subscriptions/{subscription_id}",
                api(self.subscription, ("read_subscriptions", "write_subscriptions"), admin=True),
                methods=["GET"],
            ),
            Route(
                "/api/subscriptions/{subscription_id}",
                api(self.unsubscribe, ("write_subscriptions",), admin=True),
                methods=["DELETE"],
            ),
        ]
        return [
            *self.oauth.routes(),
            Route("/api/user", api(self.user, ("read_user",), space_level=False), methods=["GET"]),
            Route("/api/spaces/{subdomain}", self.space_details, methods=["GET"]),
            Route("/api/access_tokens/{token}", self.access_token, methods=["GET", "DELETE"]),
            Mount("/spaces/{subdomain}", routes=space_routes),
        ]

    # -- test controls under /_sandbox/cobot --------------------------------------------------
    def admin_routes(self) -> list[BaseRoute]:
        async def token_policy(request: Request) -> Response:
            """Switch to expiring tokens with refresh tokens (to prove refresh near expiry)."""
            body = await json_body(request) or {}
            ttl = body.get("access_ttl")
            self.oauth.access_ttl = None if ttl is None else float(ttl)
            self.oauth.issue_refresh_tokens = bool(body.get("refresh_tokens", ttl is not None))
            return JSONResponse(self.info()["oauth"])

        async def expire_tokens(request: Request) -> Response:
            self.oauth.expire_all()
            return JSONResponse({"expired": True})

        async def create_invoice(request: Request) -> Response:
            """Bill a membership now (fires ``created_invoice``)."""
            space = self.spaces.get(request.path_params["subdomain"])
            body = await json_body(request) or {}
            member = (space or {}).get("memberships", {}).get(body.get("membership_id", ""))
            if space is None or member is None:
                return _error(404, "Space or membership not found.")
            amount = float(body.get("amount", 100))
            today = datetime.now(timezone.utc).date()
            invoice_id = cobot_data.cobot_id("invoice", space["subdomain"], secrets.token_hex(8))
            items = [
                {
                    "description": body.get("description", "Extra services"),
                    "quantity": "1.0",
                    "amount": cobot_data.money(amount),
                    "tax_rate": "21.0",
                    "total_amount": cobot_data.money(amount),
                }
            ]
            record = cobot_data.invoice_record(
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
            with self._lock:
                space["invoices"][invoice_id] = record
            self._notify(space, "created_invoice", record["url"])
            return JSONResponse(record, status_code=201)

        async def limits(request: Request) -> Response:
            """Scale Cobot's limits alone, e.g. for a suite that must not touch the other vendors."""
            body = await json_body(request) or {}
            self.limit_scale = float(body.get("scale", 1.0))
            self.window.reset()
            return JSONResponse(self.info()["limits"])

        return [
            Route("/limits", limits, methods=["POST"]),
            Route("/token-policy", token_policy, methods=["POST"]),
            Route("/expire-tokens", expire_tokens, methods=["POST"]),
            Route("/spaces/{subdomain}/invoices", create_invoice, methods=["POST"]),
        ]


def create(ctx: SandboxContext) -> CobotSandbox:
    return CobotSandbox(ctx)
