"""The Cobot emulation under ``/cobot``: OAuth2 + OpenID Connect and the v1 REST API of spaces,
memberships, bookings, resources, invoices, check-ins, time passes, access tokens and webhook
subscriptions; and API 2 (JSON:API, by Cobot's OpenAPI spec) under ``/api2`` (see ``api2``).

Layout (``COBOT_URL=<sandbox>/cobot``):
- user level, like ``https://www.cobot.me``: ``/oauth/authorize``, ``/oauth/access_token``,
  ``/.well-known/openid-configuration``, ``/jwks.json``, ``/api/userinfo``, ``/api/user``,
  ``/api/spaces`` and ``/api/spaces/{subdomain}``, ``/api/access_tokens/{token}[/space]``;
- space level, like ``https://<subdomain>.cobot.me``: on the space's host, or under
  ``/spaces/{subdomain}`` (see ``hosts``), including the space's own OpenID provider (its id tokens add
  the membership's name, picture and phone number).

Rate limits follow the documentation: 60 requests per minute per user, ``GET /api/memberships`` 6 per
minute, both scaled by ``--rate-scale``. They are counted like Rack::Attack (the usual throttle of a
Rails application such as Cobot): a fixed one-minute window per user, ``429`` with a JSON error and
``Retry-After`` = the seconds left in the window. Errors are ``{"error": "..."}``; validation errors
``422 {"errors": {"field": "message"}}`` as documented.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from connectors_sandbox.app import SandboxContext, VendorSandbox
from connectors_sandbox.cobot import data
from connectors_sandbox.cobot.api2 import PREFIX as API2_PREFIX
from connectors_sandbox.cobot.api2 import Api2
from connectors_sandbox.cobot.bookings import Bookings
from connectors_sandbox.cobot.checkins import CheckIns
from connectors_sandbox.cobot.controls import control_routes
from connectors_sandbox.cobot.hosts import SPACES_PATH, SpaceHosts
from connectors_sandbox.cobot.members import Members
from connectors_sandbox.cobot.operations import OPERATIONS
from connectors_sandbox.cobot.rules import Access, CobotCall, membership_of
from connectors_sandbox.cobot.spaces import Spaces
from connectors_sandbox.cobot.subscriptions import Subscriptions
from connectors_sandbox.common import ApiError, bearer_token, ceil_seconds
from connectors_sandbox.oauth import Grant, OAuthClient, OAuthServer
from connectors_sandbox.pipeline import ErrorFormat, Handler, RequestPipeline

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
# API 2's scopes, as its spec names them per operation (one OAuth server grants both APIs' scopes).
SCOPES += sorted({scope for op in OPERATIONS.values() for scope in op.scope.split()} - set(SCOPES))
DEMO_CLIENT_ID = "cobot-demo-client"
# Fixed demo credentials (like the other vendors' demo passwords), so devdata/env.json can point a
# robot at a sandbox started by hand; they are fake and valid only here.
DEMO_CLIENT_SECRET = "cobot-demo-secret-4e9d2a7c81f05b36"
DEMO_ADMIN_TOKEN = "cbt-demo-admin-0c7f3e9a2d5b4816"
DEMO_MEMBER_TOKEN = "cbt-demo-member-8a1d6f2c9e4b7053"
DEMO_LIMITED_TOKEN = "cbt-demo-limited-5b3e8d1f7a2c6094"
MEMBER_SCOPES = [
    "read_user",
    "read_bookings",
    "write_bookings",
    "read_resources",
    "read_check_ins",
    "checkin",
    "read_time_passes",
    "read_memberships",
    # API 2
    "read_spaces",
    "read_events",
    "read_external_bookings",
    "write_check_ins",
]
USER_LIMIT_PER_MINUTE = 60
MEMBERSHIPS_LIMIT_PER_MINUTE = 6
OAUTH_PATHS = {
    "authorize": "/oauth/authorize",
    "token": "/oauth/access_token",
    "discovery": "/.well-known/openid-configuration",
    "jwks": "/jwks.json",
    "userinfo": "/api/userinfo",
}


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


class CobotSandbox(VendorSandbox, RequestPipeline[Access, Grant]):
    name = "cobot"
    errors = ErrorFormat("error")

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx)
        self.base = ctx.base_url + "/cobot"
        self.space_url_template = self.base + SPACES_PATH + "/{subdomain}"
        ctx.remember_secret(DEMO_CLIENT_SECRET)
        self.clients = [OAuthClient(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, name="Cobot demo app")]
        self.oauth = self._oauth_server(self.base, data.USERS)
        # Each space is its own OpenID provider (own issuer, endpoints and signing key).
        self.space_oauth: dict[str, OAuthServer] = {}
        self.window = FixedWindow()
        # A Cobot-only speed-up on top of --rate-scale (kept across resets; see /_sandbox/cobot/limits).
        self.limit_scale = 1.0
        self.lock = threading.Lock()
        self.spaces: dict[str, dict[str, Any]] = {}
        self.revoked: set[str] = set()
        self.space_tokens: dict[str, Grant] = {}
        # Demo tokens outlive resets, so a robot or suite that read them once keeps working.
        self.demo_tokens: dict[str, Grant] = {}
        self.admin_token = self._demo_token(DEMO_ADMIN_TOKEN, data.ALICE, SCOPES)
        self.member_token = self._demo_token(DEMO_MEMBER_TOKEN, data.BOB, MEMBER_SCOPES)
        self.limited_token = self._demo_token(DEMO_LIMITED_TOKEN, data.ALICE, ["read_user", "read_bookings"])
        self.members = Members(lambda: self.spaces, self.base)
        self.bookings = Bookings(self.lock, self._notify)
        self.check_ins = CheckIns(self.lock)
        self.subscriptions = Subscriptions(ctx, self.lock)
        self.space_api = Spaces(self)
        self.api2 = Api2(self)
        for subdomain in (data.DEMO_SPACE, data.OTHER_SPACE):
            self.space_oauth[subdomain] = self._oauth_server(self.space_url(subdomain), [])

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

    def space_url(self, subdomain: str) -> str:
        return self.space_url_template.format(subdomain=subdomain)

    def _notify(self, space: dict[str, Any], event: str, resource_url: str) -> None:
        self.subscriptions.notify(space, event, resource_url)

    # -- lifecycle ---------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.spaces = data.build(self.space_url_template) if self.ctx.options.demo else {}
            self.revoked.clear()
            self.space_tokens.clear()
            for extra in set(self.space_oauth) - {data.DEMO_SPACE, data.OTHER_SPACE}:
                del self.space_oauth[extra]
        self.window.reset()
        self.oauth.reset()
        # Cobot's documented behaviour: long-lived tokens without refresh tokens.
        self.oauth.access_ttl = None
        self.oauth.issue_refresh_tokens = False
        for subdomain, server in self.space_oauth.items():
            server.reset()
            server.users = self._space_users(subdomain)

    def add_space(self, space: dict[str, Any]) -> bool:
        """Store a new space (False when its subdomain was taken meanwhile) with its own OpenID provider."""
        subdomain = space["subdomain"]
        with self.lock:
            if subdomain in self.spaces:
                return False
            self.spaces[subdomain] = space
            self.space_oauth[subdomain] = self._oauth_server(space["url"], [])
        self.space_oauth[subdomain].users = self._space_users(subdomain)
        return True

    def _space_users(self, subdomain: str) -> list[dict[str, Any]]:
        space = self.spaces.get(subdomain)
        users = []
        for user in data.USERS:
            entry: dict[str, Any] = dict(user)
            member = membership_of(space, user["id"]) if space else None
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
                "COBOT_CLIENT_SECRET": DEMO_CLIENT_SECRET,
                "COBOT_SPACE": data.DEMO_SPACE,
                "COBOT_API_URL": self.base + API2_PREFIX,
            },
            # Clients derive it from COBOT_URL (<COBOT_URL>/spaces/<subdomain> for a loopback host).
            "space_url_template": self.space_url_template,
            "spaces": sorted(self.spaces),
            "limits": {
                "user_per_minute": self.limit(USER_LIMIT_PER_MINUTE),
                "memberships_per_minute": self.limit(MEMBERSHIPS_LIMIT_PER_MINUTE),
            },
            "oauth": {
                "access_ttl": self.oauth.access_ttl,
                "refresh_tokens": self.oauth.issue_refresh_tokens,
                "refresh_count": self.oauth.refresh_count,
            },
        }

    def limit(self, per_minute: int) -> int:
        return max(1, round(self.ctx.scaled(per_minute) * self.limit_scale))

    # -- tokens ------------------------------------------------------------------------------
    def lookup(self, token: str) -> Grant | None:
        """What a token stands for (demo, OAuth, space-owned), or None when unknown or revoked."""
        if not token or token in self.revoked:
            return None
        grant = self.demo_tokens.get(token) or self.space_tokens.get(token)
        if grant is not None:
            return grant
        for server in (self.oauth, *self.space_oauth.values()):
            grant = server.grant_of(token)
            if grant is not None:
                return grant
        return None

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def mint_space_token(self, grant: Grant, subdomain: str) -> str:
        token = secrets.token_hex(32)
        self.ctx.remember_secret(token)
        self.space_tokens[token] = Grant(grant.user, grant.client_id, grant.scopes, space=subdomain)
        return token

    # -- the pipeline's steps ------------------------------------------------------------------
    def authenticate(self, request: Request, access: Access, headers: dict[str, str]) -> Grant:
        grant = self.lookup(bearer_token(request) or "")
        if grant is None:
            raise ApiError(
                "Unauthorized: a valid OAuth2 access token is required (Authorization: Bearer <token>).", 401
            )
        return grant

    def rate_limit(self, call: CobotCall) -> None:
        user = str(call.principal.user["id"])
        allowed, left = self.window.take(f"user:{user}", self.limit(USER_LIMIT_PER_MINUTE))
        if allowed and call.access.endpoint_limit is not None:
            key = f"endpoint:{call.request.url.path}:{user}"
            allowed, left = self.window.take(key, self.limit(call.access.endpoint_limit))
        if not allowed:
            wait = ceil_seconds(left)
            raise ApiError(f"Rate limit exceeded. Retry in {wait} seconds.", 429, headers={"Retry-After": str(wait)})

    def authorise(self, call: CobotCall) -> None:
        access, grant = call.access, call.principal
        if access.scopes and not set(access.scopes) & set(grant.scopes):
            raise ApiError(f"Forbidden: this call needs the scope {' or '.join(access.scopes)}.", 403)
        if not access.space:
            return
        subdomain = call.params.get("subdomain", "")
        space = self.spaces.get(subdomain)
        if space is None:
            raise ApiError("Space not found.", 404)
        if grant.space is not None and grant.space != subdomain:
            raise ApiError("Forbidden: this access token belongs to another space.", 403)
        user = str(grant.user["id"])
        if access.admin and user not in space["admins"]:
            raise ApiError("Forbidden: only admins of this space may do this.", 403)
        if access.member and user not in space["admins"] and membership_of(space, user) is None:
            raise ApiError("Forbidden: only members and admins of this space may do this.", 403)
        call.target = space

    # -- per-space OpenID provider ------------------------------------------------------------
    def _space_oauth(self, method: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            subdomain = request.path_params["subdomain"]
            server = self.space_oauth.get(subdomain)
            if server is None or subdomain not in self.spaces:
                raise ApiError("Space not found.", 404)
            result: Response = await getattr(server, method)(request)
            return result

        return endpoint

    # -- routes -------------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        def api(path: str, method: str, handler: Handler[Access, Grant], *scopes: str, **rules: Any) -> Route:
            return self.route(path, handler, Access(scopes=scopes, **rules), [method])

        bookings_read = ("read_bookings", "write_bookings")
        subscriptions_read = ("read_subscriptions", "write_subscriptions")
        b, c, m, s = self.bookings, self.check_ins, self.members, self.subscriptions
        space_routes: list[BaseRoute] = [
            *(Route(path, self._space_oauth(name), methods=[verb]) for name, path, verb in _OAUTH_ROUTES),
            api(
                "/api/memberships",
                "GET",
                m.memberships,
                "read_memberships",
                admin=True,
                endpoint_limit=MEMBERSHIPS_LIMIT_PER_MINUTE,
            ),
            api("/api/memberships/{membership_id}", "GET", m.membership, "read_memberships"),
            api("/api/memberships/{membership_id}/check_ins", "GET", c.of_membership, "read_check_ins"),
            api("/api/memberships/{membership_id}/check_ins/current", "DELETE", c.check_out, "checkin"),
            api("/api/memberships/{membership_id}/work_sessions", "POST", c.check_in, "checkin"),
            api("/api/memberships/{membership_id}/time_passes/unused", "GET", m.time_passes, "read_time_passes"),
            api("/api/bookings", "GET", b.list, *bookings_read),
            api("/api/bookings/{booking_id}", "GET", b.show, *bookings_read),
            api("/api/bookings/{booking_id}", "PUT", b.update, "write_bookings"),
            api("/api/bookings/{booking_id}", "DELETE", b.delete, "write_bookings"),
            api("/api/resources", "GET", b.resources, "read_resources"),
            api("/api/resources/{resource_id}/bookings", "GET", b.list, *bookings_read),
            api("/api/resources/{resource_id}/bookings", "POST", b.create, "write_bookings"),
            api("/api/invoices", "GET", m.invoices, "read_invoices", admin=True),
            api("/api/check_ins", "GET", c.today, "read_check_ins", member=True),
            api("/api/work_sessions", "GET", c.work_sessions, "read_check_ins", member=True),
            api("/api/time_passes/unused", "GET", m.time_passes, "read_time_passes"),
            api("/api/subscriptions", "GET", s.list, *subscriptions_read, admin=True),
            api("/api/subscriptions", "POST", s.subscribe, "write_subscriptions", admin=True),
            api("/api/subscriptions/{subscription_id}", "GET", s.show, *subscriptions_read, admin=True),
            api("/api/subscriptions/{subscription_id}", "DELETE", s.unsubscribe, "write_subscriptions", admin=True),
        ]
        spaces = self.space_api
        return [
            *self.oauth.routes(),
            api("/api/user", "GET", m.user, "read_user", space=False),
            api("/api/spaces", "POST", spaces.create, "write", space=False),
            Route("/api/spaces/{subdomain}", spaces.details, methods=["GET"]),
            api("/api/spaces/{subdomain}", "PUT", spaces.update, "write", admin=True),
            api("/api/access_tokens/{token}", "GET", spaces.token_info, space=False),
            api("/api/access_tokens/{token}", "DELETE", spaces.token_info, space=False),
            api("/api/access_tokens/{token}/space", "POST", spaces.space_token, space=False),
            Mount(SPACES_PATH + "/{subdomain}", routes=space_routes),
            Mount(API2_PREFIX, routes=self.api2.routes()),
        ]

    def mount(self) -> BaseRoute:
        return Mount(
            f"/{self.name}",
            routes=self.routes(),
            middleware=[Middleware(SpaceHosts, known=lambda subdomain: subdomain in self.spaces)],
        )

    def admin_routes(self) -> list[BaseRoute]:
        return control_routes(self)

    def log_path(self, path: str) -> str:
        # /api/access_tokens/{token}[/space] carries a token in the path.
        return _TOKEN_IN_PATH.sub(r"\1***", path)


_TOKEN_IN_PATH = re.compile(r"(/api/access_tokens/)[^/]+")
_OAUTH_ROUTES = [
    ("authorize", OAUTH_PATHS["authorize"], "GET"),
    ("token", OAUTH_PATHS["token"], "POST"),
    ("discovery", OAUTH_PATHS["discovery"], "GET"),
    ("jwks", OAUTH_PATHS["jwks"], "GET"),
    ("userinfo", OAUTH_PATHS["userinfo"], "GET"),
]


def create(ctx: SandboxContext) -> CobotSandbox:
    return CobotSandbox(ctx)
