"""The sandbox application: vendor emulations under their prefixes, admin endpoints under /_sandbox."""

from __future__ import annotations

import importlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from Connectors.sandbox.common import BadRequest, FaultSpec, SandboxOptions, Stats, error
from Connectors.sandbox.faults import FaultMiddleware

log = logging.getLogger("connectors.sandbox")

VENDOR_MODULES = {
    "robaws": "Connectors.sandbox.robaws",
    "cobot": "Connectors.sandbox.cobot",
    "controlroom": "Connectors.sandbox.controlroom",
    "robostack": "Connectors.sandbox.robostack",
}


class SandboxContext:
    """What every vendor emulation shares: options, statistics, webhook delivery."""

    def __init__(self, options: SandboxOptions) -> None:
        self.options = options
        self.stats = Stats()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sandbox-webhooks")
        self.deliveries: list[dict[str, Any]] = []
        self._deliveries_lock = threading.Lock()
        # Every credential, token and webhook secret the sandbox has minted or accepts, kept across
        # resets, so the secret-leak test can grep real outputs for each value.
        self.minted_secrets: set[str] = set()

    def remember_secret(self, *values: Any) -> None:
        for value in values:
            if isinstance(value, str) and len(value) >= 6:
                self.minted_secrets.add(value)

    @property
    def base_url(self) -> str:
        return self.options.public_url.rstrip("/")

    def scaled(self, value: float) -> float:
        return value * self.options.rate_scale

    def deliver(self, url: str, body: bytes, headers: dict[str, str], attempts: int = 4, timeout: float = 2.0) -> None:
        """POST a webhook in the background; retried with back-off until a 2xx (like the vendors)."""

        def run() -> None:
            record = {"url": url, "attempts": 0, "status": None}
            for attempt in range(attempts):
                record["attempts"] = attempt + 1
                try:
                    response = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
                    record["status"] = response.status_code
                    if 200 <= response.status_code < 300 or response.status_code == 410:
                        break
                except requests.RequestException as exc:
                    record["status"] = type(exc).__name__
                time.sleep(min(5.0, 0.2 * 2**attempt))
            with self._deliveries_lock:
                self.deliveries.append(record)
            self.stats.bump("webhook_deliveries")

        self._pool.submit(run)


class VendorSandbox:
    """Base of a vendor emulation: routes under ``/<name>``, data that ``reset()`` restores."""

    name = "vendor"

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[BaseRoute]:
        return []

    def admin_routes(self) -> list[BaseRoute]:
        """Test controls for this vendor, served under ``/_sandbox/<name>/`` (not counted as API calls)."""
        return []

    def reset(self) -> None:
        """Forget all data and limits; load demo data when the sandbox runs with --demo."""

    def info(self) -> dict[str, Any]:
        """Public facts for /_sandbox/config: demo credentials, ids, limits."""
        return {}


def _json_errors(app: Any) -> Any:
    async def handle_bad_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BadRequest)
        return error(exc.status, exc.message)

    app.add_exception_handler(BadRequest, handle_bad_request)
    return app


class StatsMiddleware:
    """Counts requests and 429s per vendor prefix, and writes a redacted access log."""

    def __init__(self, app: Any, stats: Stats, vendors: tuple[str, ...]) -> None:
        self.app = app
        self.stats = stats
        self.prefixes = {f"/{name}": name for name in vendors}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        vendor = next(
            (name for prefix, name in self.prefixes.items() if path.startswith(prefix + "/") or path == prefix), None
        )
        status_holder: dict[str, int] = {}

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
            await send(message)

        await self.app(scope, receive, capture)
        status = status_holder.get("status", 0)
        if vendor:
            self.stats.count_request(vendor, status)
        # Path only: query strings may carry tokens, and headers are never logged.
        log.info("%s %s -> %s", scope.get("method"), path, status)


def create_app(options: SandboxOptions | None = None) -> Starlette:
    options = options or SandboxOptions()
    ctx = SandboxContext(options)
    vendors: dict[str, VendorSandbox] = {}
    for name in options.vendors:
        module = importlib.import_module(VENDOR_MODULES[name])
        vendors[name] = module.create(ctx)

    def reset_all(demo: bool | None = None) -> None:
        if demo is not None:
            options.demo = demo
        ctx.stats.reset()
        fault_layer.reseed(options.seed)
        for vendor in vendors.values():
            vendor.reset()

    async def reset(request: Request) -> Response:
        body: dict[str, Any] = {}
        raw = await request.body()
        if raw:
            body = json.loads(raw)
        reset_all(body.get("demo"))
        return JSONResponse({"reset": True, "demo": options.demo})

    async def stats(request: Request) -> Response:
        data = ctx.stats.as_dict()
        for name in vendors:
            data.setdefault(name, {"requests": 0, "rate_limited": 0})
        data["faults_injected"] = dict(fault_layer.injected)
        return JSONResponse(data)

    async def config(request: Request) -> Response:
        if request.method == "POST":
            body = json.loads(await request.body() or b"{}")
            if "rate_scale" in body:
                options.rate_scale = float(body["rate_scale"])
            if "faults" in body:
                options.faults = FaultSpec.parse(body["faults"])
            if "seed" in body:
                options.seed = body["seed"]
                fault_layer.reseed(options.seed)
            if "time_scale" in body:
                options.time_scale = float(body["time_scale"])
            if "run_seconds" in body:
                options.run_seconds = float(body["run_seconds"])
            if body.get("reset", "rate_scale" in body):
                reset_all()
        return JSONResponse(
            {
                "demo": options.demo,
                "rate_scale": options.rate_scale,
                "seed": options.seed,
                "faults": options.faults.__dict__,
                "run_seconds": options.run_seconds,
                "time_scale": options.time_scale,
                "vendors": {name: vendor.info() for name, vendor in vendors.items()},
            }
        )

    async def deliveries(request: Request) -> Response:
        return JSONResponse(list(ctx.deliveries))

    async def minted(request: Request) -> Response:
        return JSONResponse(sorted(ctx.minted_secrets))

    routes: list[BaseRoute] = [
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/stats", stats, methods=["GET"]),
        Route("/_sandbox/config", config, methods=["GET", "POST"]),
        Route("/_sandbox/webhook-deliveries", deliveries, methods=["GET"]),
        Route("/_sandbox/secrets", minted, methods=["GET"]),
    ]
    for name, vendor in vendors.items():
        admin = vendor.admin_routes()
        if admin:
            routes.append(Mount(f"/_sandbox/{name}", routes=admin))
        routes.append(Mount(f"/{name}", routes=vendor.routes()))
    app = _json_errors(Starlette(routes=routes))
    app.state.ctx = ctx
    app.state.vendors = vendors
    stats_layer = StatsMiddleware(app, ctx.stats, tuple(vendors))
    fault_layer = FaultMiddleware(
        stats_layer, lambda: options.faults, options.seed, tuple(f"/{name}/" for name in vendors)
    )
    reset_all()
    outer: Any = fault_layer
    outer.state = app.state
    return outer
