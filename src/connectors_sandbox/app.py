"""The sandbox application: vendor emulations under their prefixes, admin endpoints under /_sandbox.

Layers, outermost first: fault injection (vendor prefixes only) → access log (statistics, one line per
request, every 5xx named) → admin guard (/_sandbox: JSON only, optional token) → Starlette routing.
Unknown paths, unknown methods and unexpected failures are answered as JSON in the format of the vendor
whose prefix the path has.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount

from connectors_sandbox.admin import admin_routes
from connectors_sandbox.common import ApiError, Stats
from connectors_sandbox.delivery import Deliveries, RetrySchedule
from connectors_sandbox.faults import FaultMiddleware
from connectors_sandbox.middleware import AccessLog, AdminGuard
from connectors_sandbox.options import SandboxOptions
from connectors_sandbox.pipeline import ErrorFormat, note_server_error

VENDOR_MODULES = {
    "robaws": "connectors_sandbox.robaws",
    "cobot": "connectors_sandbox.cobot",
    "controlroom": "connectors_sandbox.controlroom",
    "robostack": "connectors_sandbox.robostack",
}
ADMIN_ERRORS = ErrorFormat("message")


class SandboxContext:
    """What every vendor emulation shares: options, statistics, webhook delivery."""

    def __init__(self, options: SandboxOptions) -> None:
        self.options = options
        self.stats = Stats()
        self.deliveries: list[dict[str, Any]] = []
        self._deliveries_lock = threading.Lock()
        self._webhooks = Deliveries(lambda: self.options.time_scale, self._delivered)
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

    def deliver(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        schedule: RetrySchedule | None = None,
        on_outcome: Any = None,
    ) -> None:
        """POST a webhook in the background, retried on ``schedule`` until a 2xx; ``on_outcome`` hears
        ``delivered``, ``gone`` (a final status such as Cobot's 410) or ``failed`` (retries ran out)."""
        self._webhooks.send(url, body, headers, schedule or RetrySchedule(), on_outcome)

    def _delivered(self, record: dict[str, Any]) -> None:
        with self._deliveries_lock:
            self.deliveries.append(record)
        self.stats.bump("webhook_deliveries")

    def reset(self) -> None:
        self._webhooks.reset()
        with self._deliveries_lock:
            self.deliveries.clear()


class VendorSandbox:
    """Base of a vendor emulation: routes under ``/<name>``, data that ``reset()`` restores."""

    name = "vendor"
    # How this vendor writes errors; used for its unknown paths and methods and unexpected failures too.
    errors = ErrorFormat("message")

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[BaseRoute]:
        return []

    def mount(self) -> BaseRoute:
        """The vendor's routes under its prefix (a vendor may add middleware, e.g. Cobot's space hosts)."""
        return Mount(f"/{self.name}", routes=self.routes())

    def log_path(self, path: str) -> str:
        """The path as the access log may show it: a vendor whose paths can carry a credential masks it."""
        return path

    def admin_routes(self) -> list[BaseRoute]:
        """Test controls for this vendor, served under ``/_sandbox/<name>/`` (not counted as API calls)."""
        return []

    def reset(self) -> None:
        """Forget all data and limits; load demo data when the sandbox runs with --demo."""

    def info(self) -> dict[str, Any]:
        """Public facts for /_sandbox/config: demo credentials, ids, limits."""
        return {}


def create_app(options: SandboxOptions | None = None) -> Any:
    options = options or SandboxOptions()
    ctx = SandboxContext(options)
    vendors: dict[str, VendorSandbox] = {}
    for name in options.vendors:
        module = importlib.import_module(VENDOR_MODULES[name])
        vendors[name] = module.create(ctx)

    def errors_for(path: str) -> ErrorFormat:
        for name, vendor in vendors.items():
            if path == f"/{name}" or path.startswith(f"/{name}/"):
                return vendor.errors
        return ADMIN_ERRORS

    def error_response(path: str, error: ApiError) -> Response:
        return errors_for(path).response(error)

    def log_path(path: str) -> str:
        for name, vendor in vendors.items():
            if path.startswith(f"/{name}/"):
                return vendor.log_path(path)
        return path

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(request.url.path, exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        path, method = request.url.path, request.method
        if exc.status_code == 404:
            message = f"Unknown path {path}"
        elif exc.status_code == 405:
            message = f"{method} is not allowed on {path}"
        else:
            message = str(exc.detail)
        return error_response(path, ApiError(message, exc.status_code, headers=dict(exc.headers or {})))

    async def on_failure(request: Request, exc: Exception) -> Response:
        note_server_error(request.scope, exc)
        return error_response(request.url.path, ApiError("Internal server error", 500))

    def reset_all(demo: bool | None = None) -> None:
        if demo is not None:
            options.demo = demo
        ctx.stats.reset()
        ctx.reset()
        fault_layer.reseed(options.seed)
        for vendor in vendors.values():
            vendor.reset()

    routes: list[BaseRoute] = admin_routes(ctx, vendors, reset_all, lambda: fault_layer)
    for name, vendor in vendors.items():
        admin = vendor.admin_routes()
        if admin:
            routes.append(Mount(f"/_sandbox/{name}", routes=admin))
        routes.append(vendor.mount())
    app = Starlette(
        routes=routes,
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_error, Exception: on_failure},
    )
    app.state.ctx = ctx
    app.state.vendors = vendors
    guarded = AdminGuard(app, lambda: options.admin_token)
    logged = AccessLog(guarded, ctx.stats, tuple(vendors), error_response, log_path)
    fault_layer = FaultMiddleware(
        logged,
        lambda: options.faults,
        options.seed,
        tuple(f"/{name}/" for name in vendors),
        lambda path, status: errors_for(path).body(ApiError(f"injected fault: HTTP {status}", status)),
    )
    reset_all()
    outer: Any = fault_layer
    outer.state = app.state
    return outer
