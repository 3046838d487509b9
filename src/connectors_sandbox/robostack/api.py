"""Robostack emulation, mounted at ``/robostack``.

What the public documentation confirms is emulated as written: applications hold resources (tables);
a token (``x-api-key`` + ``x-api-secret``) works on the applications it was granted to; find, create,
update and delete records at ``/external/api/{appUUID}/{resource}/`` with POST, PUT, PATCH and DELETE.
What it leaves open is decided here and documented in docs/robostack.md:

- find: ``{"selection": {...}}`` is an exact-match AND; no body, ``{}`` or no ``selection`` returns all
  records; the answer is ``{"results": [records]}`` (each record has an integer ``id``).
- create: one object or a list of objects; answer ``{"results": [created records]}``.
- update: ``{"selection": {...}, "updation": {...}}`` or two lists of the same length paired by
  position; answer ``{"matched": n, "modified": n, "results": [updated records]}``.
- delete: ``{"selection": {...}}`` or a list of selections; answer ``{"matched": n, "deleted": n}``.
- aggregation: ``POST .../aggregation`` with ``{"pipeline": [stages]}`` or a bare list of stages
  (see ``aggregation``); answer ``{"results": [documents]}``.
- errors: ``{"message": ...}`` with 400 (malformed body, naming the problem), 401 (missing or wrong
  key/secret), 403 (token not granted to the application), 404 (unknown application or resource,
  unknown path), 405 (unknown method), 429 with ``Retry-After`` when a rate limit is configured (there
  is none by default: no limit is published), set with
  ``POST /_sandbox/robostack/rate-limit {"per_second": 5, "burst": 10}``.

Every call passes the shared request pipeline: authenticate (key and secret) → rate-limit →
authorise (application granted to the token, resource exists) → handle.
"""

from __future__ import annotations

import copy
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors_sandbox.admin import admin_body, number, optional, settings, whole
from connectors_sandbox.app import SandboxContext, VendorSandbox
from connectors_sandbox.common import ApiError, ServerBucket, ceil_seconds, json_body
from connectors_sandbox.pipeline import Call, RequestPipeline
from connectors_sandbox.robostack.aggregation import PipelineError, run_pipeline

DEMO_APP_UUID = "5f1c9a2e-7b3d-4c8e-9a61-0d2f4b8e6c17"
DEMO_APP_NAME = "Field Orders"
# A second application the demo token is not granted to: a way to see a 403 with valid credentials.
OTHER_APP_UUID = "a93e0c57-2d41-4f6b-8c0e-7e5b1d9f3a24"
DEMO_API_KEY = "rsk_demo_5f1c9a2e7b3d4c8e"
DEMO_API_SECRET = "rss_demo_Vq7LmX2pT9cN4wRz8kHs"
# A valid token granted only to the other application.
UNGRANTED_API_KEY = "rsk_demo_a93e0c572d414f6b"
UNGRANTED_API_SECRET = "rss_demo_Jd3Fh8Qe1Yb6Ug0Ki5Np"


@dataclass
class Resource:
    records: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1

    def insert(self, values: dict[str, Any]) -> dict[str, Any]:
        record = {"id": self.next_id, **copy.deepcopy(values)}
        self.next_id += 1
        self.records.append(record)
        return record


@dataclass
class Application:
    uuid: str
    name: str
    resources: dict[str, Resource] = field(default_factory=dict)


@dataclass(frozen=True)
class Token:
    key: str
    secret: str
    apps: frozenset[str]


class RobostackSandbox(VendorSandbox, RequestPipeline[None, Token]):
    name = "robostack"

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx)
        self._lock = threading.RLock()
        # Fixed demo credentials, like the other vendors', so devdata/vault.json can hold them.
        self.demo_key = DEMO_API_KEY
        self.demo_secret = DEMO_API_SECRET
        self.ungranted_key = UNGRANTED_API_KEY
        self.ungranted_secret = UNGRANTED_API_SECRET
        ctx.remember_secret(self.demo_key, self.demo_secret, self.ungranted_key, self.ungranted_secret)
        self.apps: dict[str, Application] = {}
        self.tokens: dict[str, Token] = {}
        self.bucket: ServerBucket | None = None
        self.reset()

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.apps = {}
            self.tokens = {}
            self.bucket = None
            if self.ctx.options.demo:
                self._load_demo()

    def _load_demo(self) -> None:
        from connectors_sandbox.robostack.demo import load

        main = Application(DEMO_APP_UUID, DEMO_APP_NAME)
        other = Application(OTHER_APP_UUID, "Warehouse")
        load(main, other)
        self.apps = {main.uuid: main, other.uuid: other}
        self.tokens = {
            self.demo_key: Token(self.demo_key, self.demo_secret, frozenset({main.uuid})),
            self.ungranted_key: Token(self.ungranted_key, self.ungranted_secret, frozenset({other.uuid})),
        }

    def info(self) -> dict[str, Any]:
        return {
            "env": {
                "ROBOSTACK_APP_UUID": DEMO_APP_UUID,
                "ROBOSTACK_API_KEY": self.demo_key,
                "ROBOSTACK_API_SECRET": self.demo_secret,
                "ROBOSTACK_UNGRANTED_API_KEY": self.ungranted_key,
                "ROBOSTACK_UNGRANTED_API_SECRET": self.ungranted_secret,
            },
            "apps": {uuid: {"name": app.name, "resources": sorted(app.resources)} for uuid, app in self.apps.items()},
            "rate_limit": None
            if self.bucket is None
            else {"per_second": self.bucket.per_second, "burst": self.bucket.burst},
        }

    # -- routes -----------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        base = "/external/api/{app}/{resource}"
        methods = ["POST", "PUT", "PATCH", "DELETE"]
        # Both spellings: the documented URL ends with '/', and Starlette would otherwise answer
        # the other one with a redirect, which clients do not follow for PUT/PATCH/DELETE.
        return [
            self.route(base + "/aggregation", self.aggregate, None, ["POST"]),
            self.route(base + "/aggregation/", self.aggregate, None, ["POST"]),
            self.route(base + "/", self.records, None, methods),
            self.route(base, self.records, None, methods),
        ]

    def admin_routes(self) -> list[BaseRoute]:
        return [
            Route("/rate-limit", self.admin_rate_limit, methods=["GET", "POST"]),
            Route("/apps/{app}/tokens", self.admin_token, methods=["POST"]),
            Route("/apps/{app}/{resource}", self.admin_records, methods=["GET"]),
        ]

    async def records(self, call: Call[None, Token]) -> Response:
        body = await json_body(call.request)
        handler = {"POST": self._find, "PUT": self._create, "PATCH": self._update, "DELETE": self._delete}
        with self._lock:
            return handler[call.request.method](call.target, body)

    async def aggregate(self, call: Call[None, Token]) -> Response:
        body = await json_body(call.request)
        if isinstance(body, dict):
            if set(body) != {"pipeline"}:
                extra = ", ".join(sorted(set(body) - {"pipeline"})) or "none (no 'pipeline')"
                raise ApiError(
                    'An aggregation body is {"pipeline": [stages]} (or the list of stages '
                    f"alone); unexpected keys: {extra}."
                )
            pipeline = body["pipeline"]
        elif body is None:
            raise ApiError('An aggregation needs a body: {"pipeline": [stages]}.')
        else:
            pipeline = body
        with self._lock:
            records = list(call.target.records)
        try:
            results = run_pipeline(records, pipeline)
        except PipelineError as exc:
            raise ApiError(f"Invalid aggregation pipeline: {exc}")
        return JSONResponse({"results": results})

    # -- the pipeline's steps ---------------------------------------------------------------------
    def authenticate(self, request: Request, access: None, headers: dict[str, str]) -> Token:
        key = request.headers.get("x-api-key")
        secret = request.headers.get("x-api-secret")
        if not key or not secret:
            raise ApiError("Missing x-api-key or x-api-secret header.", 401)
        with self._lock:
            token = self.tokens.get(key)
        if token is None or not secrets.compare_digest(token.secret.encode(), secret.encode()):
            raise ApiError("Invalid token key or secret.", 401)
        return token

    def rate_limit(self, call: Call[None, Token]) -> None:
        bucket = self.bucket
        if bucket is not None:
            allowed, _remaining, wait = bucket.take(call.principal.key)
            if not allowed:
                raise ApiError("Too many requests; slow down.", 429, headers={"Retry-After": str(ceil_seconds(wait))})

    def authorise(self, call: Call[None, Token]) -> None:
        app_uuid, name = call.params["app"], call.params["resource"]
        with self._lock:
            app = self.apps.get(app_uuid)
            resource = app.resources.get(name) if app else None
        if app is None:
            raise ApiError(f"Application {app_uuid!r} does not exist.", 404)
        if app.uuid not in call.principal.apps:
            raise ApiError(
                "This token has not been granted access to this application (API Access > Add Token Access).", 403
            )
        if resource is None:
            raise ApiError(f"Resource {name!r} does not exist in this application.", 404)
        call.target = resource

    # -- operations -------------------------------------------------------------------------
    def _find(self, resource: Resource, body: Any) -> Response:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ApiError(f'A find body is an object such as {{"selection": {{"id": 1}}}}, got {_kind(body)}.')
        selection = body.get("selection")
        if selection is None:
            selection = {}
        if not isinstance(selection, dict):
            raise ApiError(f"'selection' must be an object of field values, got {_kind(selection)}.")
        _check_selection(selection, "selection")
        found = [copy.deepcopy(r) for r in resource.records if _matches(r, selection)]
        return JSONResponse({"results": found})

    def _create(self, resource: Resource, body: Any) -> Response:
        if isinstance(body, dict):
            items = [body]
        elif isinstance(body, list) and body:
            items = body
        else:
            raise ApiError(
                "A create body is one record object or a non-empty list of record objects, "
                f"got {_kind(body) if body != [] else 'an empty list'}."
            )
        for index, item in enumerate(items):
            where = "the record" if isinstance(body, dict) else f"record {index + 1}"
            if not isinstance(item, dict) or not item:
                raise ApiError(f"{where} must be a non-empty object of field values, got {_kind(item)}.")
            if "id" in item:
                raise ApiError(f"{where} has an 'id': Robostack assigns ids; remove it.")
        created = [resource.insert(item) for item in items]
        return JSONResponse({"results": copy.deepcopy(created)})

    def _update(self, resource: Resource, body: Any) -> Response:
        if not isinstance(body, dict) or "selection" not in body or "updation" not in body:
            raise ApiError(
                'An update body is {"selection": {...}, "updation": {...}} '
                "(or two lists of the same length, paired by position)."
            )
        selection, updation = body["selection"], body["updation"]
        if isinstance(selection, dict) and isinstance(updation, dict):
            pairs = [(selection, updation)]
        elif isinstance(selection, list) and isinstance(updation, list):
            if not selection or len(selection) != len(updation):
                raise ApiError(
                    f"'selection' and 'updation' lists must be non-empty and of the same length "
                    f"(got {len(selection)} and {len(updation)})."
                )
            pairs = list(zip(selection, updation, strict=True))
        else:
            raise ApiError(
                f"'selection' and 'updation' must both be objects or both be lists, got "
                f"{_kind(selection)} and {_kind(updation)}."
            )
        for index, (sel, upd) in enumerate(pairs):
            where = "" if len(pairs) == 1 and isinstance(selection, dict) else f" {index + 1}"
            if not isinstance(sel, dict):
                raise ApiError(f"selection{where} must be an object, got {_kind(sel)}.")
            _check_selection(sel, f"selection{where}")
            if not isinstance(upd, dict) or not upd:
                raise ApiError(f"updation{where} must be a non-empty object of new field values.")
            if "id" in upd:
                raise ApiError(f"updation{where} changes 'id'; ids cannot be changed.")
        matched = modified = 0
        touched: dict[int, dict[str, Any]] = {}
        for sel, upd in pairs:
            for record in resource.records:
                if _matches(record, sel):
                    matched += 1
                    if any(record.get(k, _ABSENT) != v for k, v in upd.items()):
                        modified += 1
                    record.update(copy.deepcopy(upd))
                    touched[record["id"]] = record
        return JSONResponse(
            {"matched": matched, "modified": modified, "results": copy.deepcopy(list(touched.values()))}
        )

    def _delete(self, resource: Resource, body: Any) -> Response:
        if not isinstance(body, dict) or "selection" not in body:
            raise ApiError('A delete body is {"selection": {...}} or {"selection": [{...}, ...]}.')
        selection = body["selection"]
        selections = selection if isinstance(selection, list) else [selection]
        if not selections:
            raise ApiError("'selection' is an empty list; give at least one selection.")
        for index, sel in enumerate(selections):
            where = "" if not isinstance(selection, list) else f" {index + 1}"
            if not isinstance(sel, dict):
                raise ApiError(f"selection{where} must be an object, got {_kind(sel)}.")
            _check_selection(sel, f"selection{where}")
        doomed = [r for r in resource.records if any(_matches(r, sel) for sel in selections)]
        doomed_ids = {r["id"] for r in doomed}
        resource.records = [r for r in resource.records if r["id"] not in doomed_ids]
        return JSONResponse({"matched": len(doomed), "deleted": len(doomed)})

    # -- admin --------------------------------------------------------------------------------
    async def admin_rate_limit(self, request: Request) -> Response:
        if request.method == "POST":
            body = settings(
                await admin_body(request),
                {"per_second": optional(number(0.0, allow_minimum=True)), "burst": optional(whole(1))},
            )
            per_second = body.get("per_second")
            with self._lock:
                if not per_second:
                    self.bucket = None
                else:
                    rate = per_second * self.ctx.options.rate_scale
                    burst = body.get("burst") or max(1, round(rate))
                    self.bucket = ServerBucket(rate, burst)
        bucket = self.bucket
        return JSONResponse(None if bucket is None else {"per_second": bucket.per_second, "burst": bucket.burst})

    async def admin_token(self, request: Request) -> Response:
        """Mint a token granted to one application (tests of several credentials)."""
        settings(await admin_body(request), {})
        app = request.path_params["app"]
        if app not in self.apps:
            raise ApiError(f"Application {app!r} does not exist.", 404)
        token = Token("rsk_" + secrets.token_hex(10), "rss_" + secrets.token_urlsafe(24), frozenset({app}))
        self.ctx.remember_secret(token.key, token.secret)
        with self._lock:
            self.tokens[token.key] = token
        return JSONResponse({"key": token.key, "secret": token.secret})

    async def admin_records(self, request: Request) -> Response:
        """The records of a resource, read without credentials or rate limit (for test assertions)."""
        with self._lock:
            app = self.apps.get(request.path_params["app"])
            resource = app.resources.get(request.path_params["resource"]) if app else None
            if resource is None:
                raise ApiError("No such application or resource.", 404)
            return JSONResponse(copy.deepcopy(resource.records))


_ABSENT = object()


def _matches(record: dict[str, Any], selection: dict[str, Any]) -> bool:
    for name, expected in selection.items():
        value = record.get(name)
        # JSON has no True == 1; Python has.
        if isinstance(value, bool) != isinstance(expected, bool) or value != expected:
            return False
    return True


def _check_selection(selection: dict[str, Any], where: str) -> None:
    for name, value in selection.items():
        if isinstance(value, (dict, list)):
            raise ApiError(
                f"{where}: field {name!r} must be matched with a plain value (exact match), "
                f"got {_kind(value)}; use an aggregation $match for conditions."
            )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "an object", list: "a list", str: "a string", type(None): "no body/null"}.get(
        type(value), type(value).__name__
    )


def create(ctx: SandboxContext) -> RobostackSandbox:
    return RobostackSandbox(ctx)
