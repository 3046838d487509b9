"""The Robaws emulation: ``/robaws/api/v2/...`` with Basic and OAuth2 authentication, roles and scopes,
the token-bucket and daily rate limits with their headers, live and replica modes, request idempotency,
paging/sorting/filtering/include, PUT and both PATCH dialects, temp document buckets with chunked uploads,
purchase-invoice approval and signed webhooks.

Everything runs on uvicorn's single event loop: handlers never block, and the only ``await`` inside a
request is reading its body, so each check-then-write below is atomic with respect to other requests.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from Connectors.sandbox.app import SandboxContext, VendorSandbox
from Connectors.sandbox.common import BadRequest, DailyQuota, ServerBucket, ceil_seconds, error, json_body
from Connectors.sandbox.oauth import OAuthClient, OAuthServer
from Connectors.sandbox.robaws_demo import load as load_demo
from Connectors.sandbox.robaws_files import MAX_FILE, TOO_LARGE, Files
from Connectors.sandbox.robaws_store import (
    SINGULAR,
    Store,
    ValidationFailed,
    apply_json_patch,
    merge_patch,
    now_iso,
    parse_includes,
)

USERNAME = "api@demo.robaws.test"
PASSWORD = "rbw-demo-pass-8c41f0a7e2"
LIMITED_USERNAME = "limited@demo.robaws.test"
LIMITED_PASSWORD = "rbw-limited-pass-3d92b6e1"
CLIENT_ID = "rbw-demo-client"
CLIENT_SECRET = "rbw-demo-client-secret-51f7c3a9"

SCOPES = [
    "settings",
    "clients",
    "work-orders",
    "planning-items",
    "employees",
    "materials",
    "installations",
    "profile",
    "projects",
    "articles",
    "posts",
    "sales-orders",
    "stock-changes",
    "offers",
    "users",
]
RATE_PER_SECOND = 15.0
RATE_BURST = 20
DAILY_LIMIT = 10_000
MODES = ("live", "replica")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
IDEMPOTENT_METHODS = ("POST", "PUT", "PATCH")
MAX_IDEMPOTENCY_KEY = 128

# Sub-resources kept as lists inside their parent entity: /<collection>/{id}/<name>[/{subId}].
SUB_LISTS = {
    ("clients", "contacts"): "contacts",
    ("suppliers", "contacts"): "contacts",
    ("purchase-supply-orders", "line-items"): "lineItems",
}
DOCUMENT_OWNERS = ("offers", "work-orders")
EVENTS = sorted(
    {f"{s}.{a}" for s in SINGULAR.values() for a in ("created", "updated", "deleted")}
    | {"article.stock-changed", "document.created"}
)

Handler = Callable[[Request, "Principal"], Awaitable[Response]]


@dataclass
class Principal:
    """Who is calling: the rate-limit / idempotency key and what the caller may do."""

    key: str
    admin: bool
    modules: frozenset[str] | None  # None = every module
    scopes: frozenset[str] | None  # None = Basic authentication (no scopes)


@dataclass
class Replay:
    status: int
    body: bytes
    media_type: str | None
    headers: dict[str, str] = field(default_factory=dict)


class _DailyQuota(DailyQuota):
    def peek(self, key: str) -> tuple[int, int]:
        """(remaining, seconds until reset) without spending a request."""
        now = int(time.time())
        day, reset_in = now // 86400, 86400 - now % 86400
        with self._lock:
            current_day, used = self._used.get(key, (day, 0))
        return (self.limit if current_day != day else max(0, self.limit - used)), reset_in


class RobawsSandbox(VendorSandbox):
    name = "robaws"

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx)
        ctx.remember_secret(PASSWORD, LIMITED_PASSWORD, CLIENT_SECRET)
        self.users = {
            USERNAME: {
                "id": 1,
                "email": USERNAME,
                "name": "API user",
                "password": PASSWORD,
                "admin": True,
                "modules": None,
            },
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
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[tuple[str, str], Replay | None] = {}
        self.bucket = ServerBucket(RATE_PER_SECOND, RATE_BURST)
        self.anonymous_bucket = ServerBucket(RATE_PER_SECOND, RATE_BURST)
        self.daily = {mode: _DailyQuota(DAILY_LIMIT) for mode in MODES}
        self.reset()

    # -- lifecycle --------------------------------------------------------------------------------
    def reset(self) -> None:
        scale = self.ctx.options.rate_scale
        burst = max(1, round(RATE_BURST * scale))
        self.bucket = ServerBucket(RATE_PER_SECOND * scale, burst)
        self.anonymous_bucket = ServerBucket(RATE_PER_SECOND * scale, burst)
        self.daily = {mode: _DailyQuota(max(1, round(DAILY_LIMIT * scale))) for mode in MODES}
        self.oauth.reset()
        self.store.clear()
        self.files.clear()
        self.webhooks = {}
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
            },
        }

    # -- routing ----------------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        api = "/api/v2"

        def route(path: str, handler: Handler, module: str | None) -> Route:
            return Route(api + path, self._guard(handler, module), methods=ALL_METHODS)

        return [
            *self.oauth.routes(),
            route("/webhook-endpoints", self.webhook_endpoints, "webhook-endpoints"),
            route("/webhook-endpoints/{endpoint_id}", self.webhook_endpoint, "webhook-endpoints"),
            route("/temp-document-buckets", self.create_bucket, "documents"),
            route("/temp-document-buckets/{bucket_id}", self.show_bucket, "documents"),
            route("/temp-document-buckets/{bucket_id}/documents", self.upload_document, "documents"),
            route("/temp-document-buckets/{bucket_id}/document-upload-sessions", self.create_session, "documents"),
            route("/document-upload-sessions/{session_id}", self.upload_part, "documents"),
            route(
                "/purchase-invoices/{entity_id:int}/start-approval-request", self.start_approval, "purchase-invoices"
            ),
            route("/{collection}", self.collection, None),
            route("/{collection}/{entity_id}", self.item, None),
            route("/{collection}/{entity_id}/{sub}", self.sub_collection, None),
            route("/{collection}/{entity_id}/{sub}/{sub_id}", self.sub_item, None),
            Route(api + "/{rest:path}", self._guard(self.unknown_path, ""), methods=ALL_METHODS),
        ]

    def admin_routes(self) -> list[BaseRoute]:
        return [
            Route("/daily-quota", self.admin_daily_quota, methods=["GET", "POST"]),
            Route("/expire-tokens", self.admin_expire_tokens, methods=["POST"]),
            Route("/documents", self.admin_documents, methods=["GET"]),
        ]

    # -- the guard every API request passes -------------------------------------------------------
    def _guard(self, handler: Handler, module: str | None) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            principal = self._authenticate(request)
            if isinstance(principal, Response):
                _, remaining, _ = self.anonymous_bucket.take(request.client.host if request.client else "?")
                principal.headers["X-RateLimit-Remaining"] = str(remaining)
                return principal
            headers = self._bucket_headers()
            allowed, remaining, wait = self.bucket.take(principal.key)
            headers["X-RateLimit-Remaining"] = str(remaining)
            try:
                mode = self._mode(request)
            except BadRequest as exc:
                return _with(error(exc.status, exc.message), headers)
            quota = self.daily[mode]
            if not allowed:
                left, reset_in = quota.peek(principal.key)
                headers.update(_daily_headers(quota.limit, left, reset_in))
                headers["Retry-After"] = str(ceil_seconds(wait))
                return _with(error(429, "Too Many Requests"), headers)
            daily_ok, left, reset_in = quota.take(principal.key)
            headers.update(_daily_headers(quota.limit, left, reset_in))
            if not daily_ok:
                headers["Retry-After"] = str(ceil_seconds(reset_in))
                return _with(
                    error(
                        429,
                        f"Daily API limit of {quota.limit} requests reached for {mode} mode: "
                        f"it resets in {reset_in} seconds",
                    ),
                    headers,
                )
            try:
                self._authorize(request, principal, module)
                if mode == "replica" and request.method not in READ_METHODS:
                    response: Response = error(405, "Replica mode is read-only: send writes in live mode")
                    response.headers["Allow"] = ", ".join(READ_METHODS)
                else:
                    response = await self._idempotent(request, principal, handler)
            except ValidationFailed as exc:
                response = error(exc.status, exc.message, errors=exc.errors)
            except BadRequest as exc:
                response = error(exc.status, exc.message)
            return _with(response, headers)

        return endpoint

    def _bucket_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Replenish-Rate": _number(self.bucket.per_second),
            "X-RateLimit-Burst-Capacity": str(self.bucket.burst),
        }

    def _authenticate(self, request: Request) -> Principal | Response:
        header = request.headers.get("authorization", "")
        scheme = header.split(" ", 1)[0].lower()
        if scheme == "basic":
            try:
                username, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                username, password = "", ""
            user = self.users.get(username)
            if user is None or not secrets.compare_digest(str(user["password"]).encode(), password.encode()):
                return _unauthorized("Invalid username or password: check the API user's credentials")
            return Principal(f"user:{username}", bool(user["admin"]), _modules(user), None)
        if scheme == "bearer":
            grant = self.oauth.grant_for(request)
            if grant is None:
                return _unauthorized("The access token is invalid or expired: refresh it or authorize again")
            return Principal(
                f"oauth:{grant.client_id}", bool(grant.user.get("admin")), _modules(grant.user), frozenset(grant.scopes)
            )
        return _unauthorized("Authentication required: send HTTP Basic credentials or an OAuth2 bearer token")

    def _authorize(self, request: Request, principal: Principal, module: str | None) -> None:
        if module is None:
            module = request.path_params["collection"]
            self.store.check_collection(module)
        if not module:
            return
        if module == "webhook-endpoints":
            if not principal.admin:
                raise BadRequest("Only admin users may manage webhook endpoints", 403)
            return
        if principal.modules is not None and module not in principal.modules:
            raise BadRequest(f"Your role has no access to {module}", 403)
        if principal.scopes is not None and module in SCOPES and module not in principal.scopes:
            raise BadRequest(f"The access token lacks the '{module}' scope: authorize again with it", 403)

    @staticmethod
    def _mode(request: Request) -> str:
        value = request.headers.get("database-mode") or request.query_params.get("database-mode") or "live"
        mode = value.strip().lower()
        if mode not in MODES:
            raise BadRequest(f"Database-Mode must be live or replica, got {value!r}")
        return mode

    async def _idempotent(self, request: Request, principal: Principal, handler: Handler) -> Response:
        key = request.headers.get("idempotency-key")
        if key is None or request.method not in IDEMPOTENT_METHODS:
            return await handler(request, principal)
        if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY:
            raise BadRequest(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters long")
        slot = (principal.key, key)
        table = self.idempotency
        if slot in table:
            stored = table[slot]
            if stored is None:
                return error(409, "A request with this Idempotency-Key is in progress")
            self.ctx.stats.bump("idempotent_replays", self.name)
            replay = Response(stored.body, stored.status, media_type=stored.media_type, headers=stored.headers)
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        # Claimed before the body is read, so a concurrent twin sees it in flight.
        table[slot] = None
        try:
            response = await handler(request, principal)
        except BaseException:
            table.pop(slot, None)
            raise
        if 200 <= response.status_code < 300 and table is self.idempotency:
            extra = {k: v for k, v in response.headers.items() if k.lower() == "location"}
            table[slot] = Replay(response.status_code, bytes(response.body), response.media_type, extra)
        else:
            table.pop(slot, None)
        return response

    # -- collections ------------------------------------------------------------------------------
    async def collection(self, request: Request, principal: Principal) -> Response:
        name = request.path_params["collection"]
        if request.method in ("GET", "HEAD"):
            return JSONResponse(self.store.query(name, request.query_params))
        if request.method != "POST":
            return _not_allowed(request, "GET, POST")
        body = await _object_body(request)
        document = self._check_document(name, None, body)
        entity = self.store.insert(name, body)
        self._attach_document(name, entity, document)
        self._emit(name, "created", entity)
        response = self._entity_response(request, name, entity, 201)
        response.headers["Location"] = f"{request.url.path}/{entity['id']}"
        return response

    async def item(self, request: Request, principal: Principal) -> Response:
        name, entity_id = request.path_params["collection"], request.path_params["entity_id"]
        method = request.method
        if method in ("GET", "HEAD"):
            return self._entity_response(request, name, self.store.get(name, entity_id))
        if method == "DELETE":
            entity = self.store.delete(name, entity_id)
            self._emit(name, "deleted", entity)
            return Response(status_code=204)
        # The body is read before the entity, so a concurrent write cannot be lost under this one.
        if method == "PUT":
            body = await _object_body(request)
            current = self.store.get(name, entity_id)
        elif method == "PATCH":
            patch = await _read_patch(request)
            current = self.store.get(name, entity_id)
            body = patch(current)
        else:
            return _not_allowed(request, "GET, PUT, PATCH, DELETE")
        document = self._check_document(name, current, body)
        entity = self.store.replace(name, entity_id, body)
        self._attach_document(name, entity, document)
        self._emit(name, "updated", entity)
        return self._entity_response(request, name, entity)

    def _entity_response(self, request: Request, name: str, entity: dict[str, Any], status: int = 200) -> Response:
        tree = parse_includes(request.query_params.get("include"))
        return JSONResponse(self.store.serialize(name, entity, tree), status_code=status)

    def _check_document(self, name: str, current: dict[str, Any] | None, body: dict[str, Any]) -> str | None:
        """The documentId a purchase-invoice write newly attaches (validated before anything changes)."""
        if name != "purchase-invoices":
            return None
        new = body.get("documentId")
        if new is None or (current is not None and new == current.get("documentId")):
            return None
        if not isinstance(new, str) or self.files.find_unattached(new) is None:
            raise ValidationFailed(
                [
                    {
                        "field": "documentId",
                        "message": "Unknown documentId: upload the file to a temp document "
                        "bucket first (or it expired with its bucket)",
                    }
                ]
            )
        return new

    def _attach_document(self, name: str, entity: dict[str, Any], document_id: str | None) -> None:
        if document_id is not None:
            self.files.attach(document_id, f"{name}/{entity['id']}")

    async def start_approval(self, request: Request, principal: Principal) -> Response:
        if request.method != "POST":
            return _not_allowed(request, "POST")
        invoice = self.store.get("purchase-invoices", request.path_params["entity_id"])
        if invoice.get("approvalStatus") == "PENDING":
            return error(409, "An approval request is already pending for this purchase invoice")
        invoice["approvalStatus"] = "PENDING"
        invoice["updatedAt"] = now_iso()
        self._emit("purchase-invoices", "updated", invoice)
        return self._entity_response(request, "purchase-invoices", invoice)

    # -- sub-resources: contacts, line items, entity documents -------------------------------------
    def _sub_list(self, request: Request) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        name, sub = request.path_params["collection"], request.path_params["sub"]
        entity = self.store.get(name, request.path_params["entity_id"])
        field_name = SUB_LISTS.get((name, sub))
        if field_name is None:
            raise BadRequest(f"Unknown path: {name} has no '{sub}'", 404)
        items = entity.setdefault(field_name, [])
        return name, entity, items

    async def sub_collection(self, request: Request, principal: Principal) -> Response:
        name, sub = request.path_params["collection"], request.path_params["sub"]
        if name in DOCUMENT_OWNERS and sub == "documents":
            return await self.entity_documents(request)
        body = await _object_body(request) if request.method == "POST" else {}
        name, entity, items = self._sub_list(request)
        if request.method in ("GET", "HEAD"):
            return JSONResponse(
                {
                    "items": copy.deepcopy(items),
                    "totalItems": len(items),
                    "currentPage": 0,
                    "size": max(len(items), 1),
                    "totalPages": 1 if items else 0,
                }
            )
        if request.method != "POST":
            return _not_allowed(request, "GET, POST")
        item = {k: v for k, v in body.items() if k != "id"}
        item["id"] = self.store.sub_id()
        items.append(item)
        entity["updatedAt"] = now_iso()
        self._emit(name, "updated", entity)
        return JSONResponse(item, status_code=201)

    async def sub_item(self, request: Request, principal: Principal) -> Response:
        replacement = await _object_body(request) if request.method == "PUT" else None
        patch = await _read_patch(request) if request.method == "PATCH" else None
        name, entity, items = self._sub_list(request)
        sub_id = request.path_params["sub_id"]
        index = next((i for i, item in enumerate(items) if str(item.get("id")) == sub_id), None)
        if index is None:
            raise BadRequest(f"No {request.path_params['sub']} item with id {sub_id}", 404)
        if request.method in ("GET", "HEAD"):
            return JSONResponse(items[index])
        if request.method == "DELETE":
            items.pop(index)
        elif replacement is not None:
            items[index] = {**replacement, "id": items[index]["id"]}
        elif patch is not None:
            items[index] = {**patch(items[index]), "id": items[index]["id"]}
        else:
            return _not_allowed(request, "GET, PUT, PATCH, DELETE")
        entity["updatedAt"] = now_iso()
        self._emit(name, "updated", entity)
        return Response(status_code=204) if request.method == "DELETE" else JSONResponse(items[index])

    async def entity_documents(self, request: Request) -> Response:
        name = request.path_params["collection"]
        entity = self.store.get(name, request.path_params["entity_id"])
        owner = f"{name}/{entity['id']}"
        if request.method in ("GET", "HEAD"):
            docs = [d.public() for d in self.files.attached.values() if d.attached_to == owner]
            return JSONResponse(
                {
                    "items": docs,
                    "totalItems": len(docs),
                    "currentPage": 0,
                    "size": max(len(docs), 1),
                    "totalPages": 1 if docs else 0,
                }
            )
        if request.method != "POST":
            return _not_allowed(request, "GET, POST")
        file_name, content_type, content = await _upload(request)
        self.store.get(name, entity["id"])  # still there after the upload was read
        bucket = self.files.new_bucket()
        document = self.files.add(bucket.id, file_name, content_type, content)
        self.files.attach(document.id, owner)
        del self.files.buckets[bucket.id]
        self._emit_event("document.created", {**document.public(), "owner": owner})
        return JSONResponse(document.public(), status_code=201)

    # -- documents ----------------------------------------------------------------------------------
    async def create_bucket(self, request: Request, principal: Principal) -> Response:
        if request.method != "POST":
            return _not_allowed(request, "POST")
        bucket = self.files.new_bucket()
        return JSONResponse({"id": bucket.id, "expires": bucket.expires}, status_code=201)

    async def show_bucket(self, request: Request, principal: Principal) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _not_allowed(request, "GET")
        bucket = self.files.bucket(request.path_params["bucket_id"])
        return JSONResponse(
            {"id": bucket.id, "expires": bucket.expires, "documents": [d.public() for d in bucket.documents.values()]}
        )

    async def upload_document(self, request: Request, principal: Principal) -> Response:
        if request.method != "POST":
            return _not_allowed(request, "POST")
        self.files.bucket(request.path_params["bucket_id"])
        file_name, content_type, content = await _upload(request)
        document = self.files.add(request.path_params["bucket_id"], file_name, content_type, content)
        self._emit_event("document.created", document.public())
        return JSONResponse(document.public(), status_code=201)

    async def create_session(self, request: Request, principal: Principal) -> Response:
        if request.method != "POST":
            return _not_allowed(request, "POST")
        self.files.bucket(request.path_params["bucket_id"])
        session = self.files.new_session(request.path_params["bucket_id"], await _json(request))
        return JSONResponse(
            {
                "id": session.id,
                "partSize": MAX_FILE,
                "parts": session.part_count,
                "fileName": session.file_name,
                "fileSize": session.file_size,
            },
            status_code=201,
        )

    async def upload_part(self, request: Request, principal: Principal) -> Response:
        if request.method != "POST":
            return _not_allowed(request, "POST")
        session_id = request.path_params["session_id"]
        if session_id not in self.files.sessions:
            raise BadRequest(f"Unknown document upload session '{session_id}'", 404)
        body = await _object_body(request)
        content = _b64(body.get("bytesBase64"))
        session = self.files.sessions[session_id]
        was_complete = session.document_id is not None
        answer = self.files.add_part(session_id, body.get("partNumber"), content)
        if session.document_id is not None and not was_complete:
            document = self.files.find_unattached(session.document_id)
            if document is not None:
                self._emit_event("document.created", document.public())
        return JSONResponse(answer)

    # -- webhooks -------------------------------------------------------------------------------------
    async def webhook_endpoints(self, request: Request, principal: Principal) -> Response:
        if request.method in ("GET", "HEAD"):
            items = [_public_endpoint(e) for e in self.webhooks.values()]
            return JSONResponse(
                {
                    "items": items,
                    "totalItems": len(items),
                    "currentPage": 0,
                    "size": max(len(items), 1),
                    "totalPages": 1 if items else 0,
                }
            )
        if request.method != "POST":
            return _not_allowed(request, "GET, POST")
        body = await _object_body(request)
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
        self.webhooks[endpoint_id] = endpoint
        return JSONResponse(endpoint, status_code=201)

    async def webhook_endpoint(self, request: Request, principal: Principal) -> Response:
        endpoint_id = request.path_params["endpoint_id"]
        endpoint = self.webhooks.get(endpoint_id)
        if endpoint is None:
            raise BadRequest(f"No webhook endpoint with id {endpoint_id}", 404)
        if request.method in ("GET", "HEAD"):
            return JSONResponse(_public_endpoint(endpoint))
        if request.method == "DELETE":
            del self.webhooks[endpoint_id]
            return Response(status_code=204)
        return _not_allowed(request, "GET, DELETE")

    def _emit(self, collection: str, action: str, entity: dict[str, Any]) -> None:
        singular = SINGULAR.get(collection)
        if singular:
            data = self.store.serialize(collection, entity, {"extraFields": {}})
            self._emit_event(f"{singular}.{action}", data)

    def _emit_event(self, event: str, data: dict[str, Any]) -> None:
        targets = [e for e in self.webhooks.values() if event in e["events"]]
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

    async def unknown_path(self, request: Request, principal: Principal) -> Response:
        return error(404, f"Unknown path {request.url.path}")

    # -- admin (test controls) --------------------------------------------------------------------------
    async def admin_daily_quota(self, request: Request) -> Response:
        if request.method == "POST":
            body = await json_body(request) or {}
            limit = body.get("limit") if isinstance(body, dict) else None
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
                return error(400, 'Send {"limit": <whole number>} and optionally "mode": live|replica')
            modes = [body["mode"]] if body.get("mode") in MODES else list(MODES)
            for mode in modes:
                self.daily[mode] = _DailyQuota(limit)
        return JSONResponse({mode: {"limit": quota.limit} for mode, quota in self.daily.items()})

    async def admin_expire_tokens(self, request: Request) -> Response:
        self.oauth.expire_all()
        return JSONResponse({"expired": True})

    async def admin_documents(self, request: Request) -> Response:
        return JSONResponse(self.files.all_documents())


# -- helpers ---------------------------------------------------------------------------------------------
def _modules(user: dict[str, Any]) -> frozenset[str] | None:
    modules = user.get("modules")
    return None if modules is None else frozenset(modules)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _daily_headers(limit: int, remaining: int, reset_in: int) -> dict[str, str]:
    return {
        "X-RateLimit-Daily-Limit": str(limit),
        "X-RateLimit-Daily-Remaining": str(remaining),
        "X-RateLimit-Daily-Reset": str(reset_in),
    }


def _with(response: Response, headers: dict[str, str]) -> Response:
    for name, value in headers.items():
        response.headers[name] = value
    return response


def _unauthorized(message: str) -> Response:
    response = error(401, message)
    response.headers["WWW-Authenticate"] = 'Basic realm="Robaws API"'
    return response


def _not_allowed(request: Request, allowed: str) -> Response:
    response = error(405, f"{request.method} is not allowed on {request.url.path}")
    response.headers["Allow"] = allowed
    return response


def _public_endpoint(endpoint: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in endpoint.items() if k != "secret"}


async def _read_patch(request: Request) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Read a PATCH body (merge patch or JSON patch); returns what applies it to the current entity."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("application/merge-patch+json", "application/json-patch+json"):
        raise BadRequest(
            "PATCH needs Content-Type application/merge-patch+json or "
            f"application/json-patch+json, got {media or 'none'}",
            415,
        )
    document = await json_body(request)
    if media == "application/merge-patch+json" and not isinstance(document, dict):
        raise BadRequest("A JSON merge patch must be a JSON object")

    def apply(current: dict[str, Any]) -> dict[str, Any]:
        if media == "application/merge-patch+json":
            result = merge_patch(copy.deepcopy(current), document)
        else:
            result = apply_json_patch(copy.deepcopy(current), document)
        if not isinstance(result, dict):
            raise BadRequest("The patched entity must stay a JSON object")
        return result

    return apply


async def _json(request: Request) -> Any:
    return await json_body(request)


async def _object_body(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    return body


def _b64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise BadRequest("bytesBase64 must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("bytesBase64 is not valid base64")


async def _upload(request: Request) -> tuple[str, str, bytes]:
    """A file from multipart/form-data (field ``file``) or JSON {fileName, contentType, bytesBase64}."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    length = request.headers.get("content-length", "")
    if length.isdigit() and media == "multipart/form-data" and int(length) > MAX_FILE + 64 * 1024:
        raise BadRequest(TOO_LARGE, 413)
    if media == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise BadRequest("multipart/form-data needs the file in a field named 'file'")
            return (upload.filename or "file", upload.content_type or "application/octet-stream", await upload.read())
    if media in ("application/json", ""):
        body = await _object_body(request)
        name = body.get("fileName")
        if not isinstance(name, str) or not name:
            raise BadRequest("fileName is required")
        return name, str(body.get("contentType") or "application/octet-stream"), _b64(body.get("bytesBase64"))
    raise BadRequest(f"Upload a file as multipart/form-data or JSON, not {media}", 415)


def create(ctx: SandboxContext) -> RobawsSandbox:
    return RobawsSandbox(ctx)
