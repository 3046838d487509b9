"""The Robaws emulation: ``/robaws/api/v2/...`` with Basic and OAuth2 authentication, roles and scopes,
the token-bucket and daily rate limits with their headers, live and replica modes, request idempotency,
paging/sorting/filtering/include, PUT and both PATCH dialects, temp document buckets with chunked uploads,
purchase-invoice approval and signed webhooks.

Rate limits as documented: a token bucket of 15/s with a burst of 20 per credential, whose level is in
``X-RateLimit-Remaining``; and 10,000 requests a day per tenant and mode (live, replica) in
``X-RateLimit-Daily-Limit|Remaining|Reset``. Robaws documents no other rate-limit header and no
``Retry-After``, so a 429 carries none: a client must pace itself by the headers above.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors_sandbox.admin import admin_body, one_of, settings, whole
from connectors_sandbox.app import SandboxContext, VendorSandbox
from connectors_sandbox.common import ApiError, DailyQuota, ServerBucket
from connectors_sandbox.oauth import OAuthClient, OAuthServer
from connectors_sandbox.pipeline import Call, Handler, RequestPipeline
from connectors_sandbox.robaws.demo import load as load_demo
from connectors_sandbox.robaws.documents import Documents
from connectors_sandbox.robaws.entities import Entities
from connectors_sandbox.robaws.files import Files
from connectors_sandbox.robaws.store import Store
from connectors_sandbox.robaws.webhooks import Webhooks

USERNAME = "api@demo.robaws.test"
PASSWORD = "rbw-demo-pass-8c41f0a7e2"
LIMITED_USERNAME = "limited@demo.robaws.test"
LIMITED_PASSWORD = "rbw-limited-pass-3d92b6e1"
CLIENT_ID = "rbw-demo-client"
CLIENT_SECRET = "rbw-demo-client-secret-51f7c3a9"
# The sandbox holds one Robaws tenant; its users and OAuth clients share its daily quotas.
TENANT = "demo-tenant"

# The scopes Robaws documents (api-notes/robaws.md).
SCOPES = list(
    str.split(
        "settings clients work-orders planning-items employees materials installations profile projects articles "
        "posts sales-orders stock-changes offers users"
    )
)
RATE_PER_SECOND = 15.0
RATE_BURST = 20
DAILY_LIMIT = 10_000
MODES = ("live", "replica")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
IDEMPOTENT_METHODS = ("POST", "PUT", "PATCH")
MAX_IDEMPOTENCY_KEY = 128
ANY_COLLECTION = "{collection}"  # the module is the collection in the path


@dataclass(frozen=True)
class Access:
    """The Robaws module a route belongs to ("" = none; ANY_COLLECTION = the path's collection)."""

    module: str


@dataclass
class Principal:
    """Who is calling: the rate-limit / idempotency key and what the caller may do."""

    key: str
    admin: bool
    modules: frozenset[str] | None  # None = every module
    scopes: frozenset[str] | None  # None = Basic authentication (no scopes)
    tenant: str = TENANT


@dataclass
class Replay:
    status: int
    body: bytes
    media_type: str | None
    headers: dict[str, str] = field(default_factory=dict)


class RobawsSandbox(VendorSandbox, RequestPipeline[Access, Principal]):
    name = "robaws"

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx)
        ctx.remember_secret(PASSWORD, LIMITED_PASSWORD, CLIENT_SECRET)
        self.users = {
            USERNAME: {"id": 1, "email": USERNAME, "name": "API user", "password": PASSWORD, "admin": True},
            LIMITED_USERNAME: {
                "id": 2,
                "email": LIMITED_USERNAME,
                "name": "Limited API user",
                "password": LIMITED_PASSWORD,
                "admin": False,
                "modules": ["clients"],
            },
        }
        self.oauth = OAuthServer(
            issuer=ctx.base_url + "/robaws",
            clients=[OAuthClient(CLIENT_ID, CLIENT_SECRET, name="Robaws demo integration")],
            users=[{k: v for k, v in user.items() if k != "password"} for user in self.users.values()],
            scopes=SCOPES,
            access_ttl=3600,
            issue_refresh_tokens=True,
            remember_secret=ctx.remember_secret,
        )
        self.store = Store()
        self.files = Files()
        self.webhooks = Webhooks(ctx)
        self.documents = Documents(self.store, self.files, self.webhooks.emit)
        self.entities = Entities(self.store, self.files, self.documents, self.webhooks.emit)
        self.idempotency: dict[tuple[str, str], Replay | None] = {}
        self.bucket = ServerBucket(RATE_PER_SECOND, RATE_BURST)
        self.anonymous_bucket = ServerBucket(RATE_PER_SECOND, RATE_BURST)
        self.daily = {mode: DailyQuota(DAILY_LIMIT) for mode in MODES}
        self.reset()

    # -- lifecycle --------------------------------------------------------------------------------
    def reset(self) -> None:
        scale = self.ctx.options.rate_scale
        burst = max(1, round(RATE_BURST * scale))
        self.bucket = ServerBucket(RATE_PER_SECOND * scale, burst)
        self.anonymous_bucket = ServerBucket(RATE_PER_SECOND * scale, burst)
        self.daily = {mode: DailyQuota(max(1, round(DAILY_LIMIT * scale))) for mode in MODES}
        self.oauth.reset()
        self.store.clear()
        self.files.clear()
        self.webhooks.clear()
        self.idempotency = {}
        if self.ctx.options.demo:
            load_demo(self.store)

    def info(self) -> dict[str, Any]:
        issuer = self.oauth.issuer
        return {
            "env": {
                "ROBAWS_USERNAME": USERNAME,
                "ROBAWS_PASSWORD": PASSWORD,
                "ROBAWS_LIMITED_USERNAME": LIMITED_USERNAME,
                "ROBAWS_LIMITED_PASSWORD": LIMITED_PASSWORD,
                "ROBAWS_CLIENT_ID": CLIENT_ID,
                "ROBAWS_CLIENT_SECRET": CLIENT_SECRET,
            },
            "rate_limit": {"per_second": self.bucket.per_second, "burst": self.bucket.burst},
            "daily_limit": {mode: quota.limit for mode, quota in self.daily.items()},
            "oauth": {
                "authorize_url": issuer + "/oauth2/authorize",
                "token_url": issuer + "/oauth2/tokens",
                "scopes": SCOPES,
                "refresh_count": self.oauth.refresh_count,
                "refused_refresh_count": self.oauth.refused_refresh_count,
            },
        }

    # -- routing ----------------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        api = "/api/v2"

        def route(path: str, handler: Handler[Access, Principal], module: str) -> Route:
            return self.route(api + path, handler, Access(module), ALL_METHODS)

        docs, entities, hooks = self.documents, self.entities, self.webhooks
        return [
            *self.oauth.routes(),
            route("/webhook-endpoints", hooks.collection, "webhook-endpoints"),
            route("/webhook-endpoints/{endpoint_id}", hooks.item, "webhook-endpoints"),
            route("/temp-document-buckets", docs.create_bucket, "documents"),
            route("/temp-document-buckets/{bucket_id}", docs.show_bucket, "documents"),
            route("/temp-document-buckets/{bucket_id}/documents", docs.upload_document, "documents"),
            route("/temp-document-buckets/{bucket_id}/document-upload-sessions", docs.create_session, "documents"),
            route("/document-upload-sessions/{session_id}", docs.upload_part, "documents"),
            route(
                "/purchase-invoices/{entity_id:int}/start-approval-request",
                entities.start_approval,
                "purchase-invoices",
            ),
            route("/{collection}", entities.collection, ANY_COLLECTION),
            route("/{collection}/{entity_id}", entities.item, ANY_COLLECTION),
            route("/{collection}/{entity_id}/{sub}", entities.sub_collection, ANY_COLLECTION),
            route("/{collection}/{entity_id}/{sub}/{sub_id}", entities.sub_item, ANY_COLLECTION),
            route("/{rest:path}", self.unknown_path, ""),
        ]

    async def unknown_path(self, call: Call[Access, Principal]) -> Response:
        raise ApiError(f"Unknown path {call.request.url.path}", 404)

    # -- the pipeline's steps ---------------------------------------------------------------------
    def authenticate(self, request: Request, access: Access, headers: dict[str, str]) -> Principal:
        _refuse_encoded_separators(request)
        header = request.headers.get("authorization", "")
        scheme = header.split(" ", 1)[0].lower()
        principal: Principal | None = None
        message = "Authentication required: send HTTP Basic credentials or an OAuth2 bearer token"
        if scheme == "basic":
            message = "Invalid username or password: check the API user's credentials"
            try:
                username, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                username, password = "", ""
            user = self.users.get(username)
            if user is not None and secrets.compare_digest(str(user["password"]).encode(), password.encode()):
                principal = Principal(f"user:{username}", bool(user["admin"]), _modules(user), None)
        elif scheme == "bearer":
            message = "The access token is invalid or expired: refresh it or authorize again"
            grant = self.oauth.grant_for(request)
            if grant is not None:
                scopes = frozenset(grant.scopes)
                principal = Principal(
                    f"oauth:{grant.client_id}", bool(grant.user.get("admin")), _modules(grant.user), scopes
                )
        if principal is None:
            # Refused callers spend from a bucket of their own address, so the header is there too.
            _, remaining, _ = self.anonymous_bucket.take(request.client.host if request.client else "?")
            headers["X-RateLimit-Remaining"] = str(remaining)
            raise ApiError(message, 401, headers={"WWW-Authenticate": 'Basic realm="Robaws API"'})
        return principal

    def rate_limit(self, call: Call[Access, Principal]) -> None:
        allowed, remaining, _wait = self.bucket.take(call.principal.key)
        call.headers["X-RateLimit-Remaining"] = str(remaining)
        call.target = mode = _mode(call.request)
        quota = self.daily[mode]
        key = call.principal.tenant
        if not allowed:
            call.headers.update(_daily_headers(quota.limit, *quota.peek(key)))
            raise ApiError("Too Many Requests", 429)
        daily_ok, left, reset_in = quota.take(key)
        call.headers.update(_daily_headers(quota.limit, left, reset_in))
        if not daily_ok:
            raise ApiError(
                f"Daily API limit of {quota.limit} requests reached for {mode} mode: it resets in {reset_in} seconds",
                429,
            )

    def authorise(self, call: Call[Access, Principal]) -> None:
        principal, module = call.principal, call.access.module
        if module == ANY_COLLECTION:
            module = call.params["collection"]
            self.store.check_collection(module)
        if module == "webhook-endpoints":
            if not principal.admin:
                raise ApiError("Only admin users may manage webhook endpoints", 403)
        elif module:
            if principal.modules is not None and module not in principal.modules:
                raise ApiError(f"Your role has no access to {module}", 403)
            if principal.scopes is not None and module in SCOPES and module not in principal.scopes:
                raise ApiError(f"The access token lacks the '{module}' scope: authorize again with it", 403)
        if call.target == "replica" and call.request.method not in READ_METHODS:
            raise ApiError(
                "Replica mode is read-only: send writes in live mode", 405, headers={"Allow": ", ".join(READ_METHODS)}
            )

    async def handle(self, call: Call[Access, Principal], handler: Handler[Access, Principal]) -> Response:
        """Idempotency: a repeated ``Idempotency-Key`` on POST/PUT/PATCH replays the original success."""
        request = call.request
        key = request.headers.get("idempotency-key")
        if key is None or request.method not in IDEMPOTENT_METHODS:
            return await handler(call)
        if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY:
            raise ApiError(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters long")
        slot = (call.principal.key, key)
        table = self.idempotency
        if slot in table:
            stored = table[slot]
            if stored is None:
                raise ApiError("A request with this Idempotency-Key is in progress", 409)
            self.ctx.stats.bump("idempotent_replays", self.name)
            replay = Response(stored.body, stored.status, media_type=stored.media_type, headers=stored.headers)
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        # Claimed before the body is read, so a concurrent twin sees it in flight.
        table[slot] = None
        try:
            response = await handler(call)
        except BaseException:
            table.pop(slot, None)
            raise
        if 200 <= response.status_code < 300 and table is self.idempotency:
            extra = {k: v for k, v in response.headers.items() if k.lower() == "location"}
            table[slot] = Replay(response.status_code, bytes(response.body), response.media_type, extra)
        else:
            table.pop(slot, None)
        return response

    # -- admin (test controls) --------------------------------------------------------------------------
    def admin_routes(self) -> list[BaseRoute]:
        return [
            Route("/daily-quota", self.admin_daily_quota, methods=["GET", "POST"]),
            Route("/expire-tokens", self.admin_expire_tokens, methods=["POST"]),
            Route("/documents", self.admin_documents, methods=["GET"]),
        ]

    async def admin_daily_quota(self, request: Request) -> Response:
        if request.method == "POST":
            body = settings(await admin_body(request), {"limit": whole(0), "mode": one_of(*MODES)})
            if "limit" not in body:
                raise ApiError('Send {"limit": <whole number>} and optionally "mode": live|replica')
            for mode in [body["mode"]] if "mode" in body else MODES:
                self.daily[mode] = DailyQuota(body["limit"])
        return JSONResponse({mode: {"limit": quota.limit} for mode, quota in self.daily.items()})

    async def admin_expire_tokens(self, request: Request) -> Response:
        settings(await admin_body(request), {})
        self.oauth.expire_all()
        return JSONResponse({"expired": True})

    async def admin_documents(self, request: Request) -> Response:
        return JSONResponse(self.files.all_documents())


def _refuse_encoded_separators(request: Request) -> None:
    """A Tomcat-style server (Robaws runs on Java Spring) refuses ``%2F`` and ``%5C`` in a path with 400
    before the application sees it: an encoded slash is data, never a separator, so it is refused here
    before anything else - never decoded into a path that reaches a nested collection."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    lowered = bytes(raw).split(b"?", 1)[0].lower()
    if b"%2f" in lowered or b"%5c" in lowered:
        raise ApiError("Bad Request: the path contains an encoded '/' or '\\'", 400)


def _modules(user: dict[str, Any]) -> frozenset[str] | None:
    modules = user.get("modules")
    return None if modules is None else frozenset(modules)


def _mode(request: Request) -> str:
    value = request.headers.get("database-mode") or request.query_params.get("database-mode") or "live"
    mode = value.strip().lower()
    if mode not in MODES:
        raise ApiError(f"Database-Mode must be live or replica, got {value!r}")
    return mode


def _daily_headers(limit: int, remaining: int, reset_in: int) -> dict[str, str]:
    return {
        "X-RateLimit-Daily-Limit": str(limit),
        "X-RateLimit-Daily-Remaining": str(remaining),
        "X-RateLimit-Daily-Reset": str(reset_in),
    }


def create(ctx: SandboxContext) -> RobawsSandbox:
    return RobawsSandbox(ctx)
