"""Admin endpoints under ``/_sandbox`` (reset, stats, config, webhook deliveries, minted secrets) and the
checks every admin endpoint runs on its input: a JSON object with known keys of the right type, or a
400 that names the problem."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors_sandbox.common import ApiError, parse_json
from connectors_sandbox.options import FaultSpec

if TYPE_CHECKING:
    from connectors_sandbox.app import SandboxContext, VendorSandbox
    from connectors_sandbox.faults import FaultMiddleware

Check = Callable[[Any], Any]


async def admin_body(request: Request) -> dict[str, Any]:
    """The JSON object of an admin request (``{}`` when the body is empty)."""
    raw = await request.body()
    body = parse_json(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise ApiError("Send a JSON object, e.g. {}")
    return body


def settings(body: dict[str, Any], checks: dict[str, Check]) -> dict[str, Any]:
    """The values of ``body`` converted by ``checks``; unknown keys and wrong values are a 400."""
    unknown = sorted(set(body) - set(checks))
    if unknown:
        raise ApiError(f"Unknown setting {', '.join(map(repr, unknown))}: use {', '.join(checks)}")
    values = {}
    for name, check in checks.items():
        if name in body:
            try:
                values[name] = check(body[name])
            except ValueError as exc:
                raise ApiError(f"{name}: {exc}")
    return values


def number(minimum: float = 0.0, *, allow_minimum: bool = False) -> Check:
    def check(value: Any) -> float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or value < minimum or (value == minimum and not allow_minimum):
            bound = f"at least {minimum:g}" if allow_minimum else f"greater than {minimum:g}"
            raise ValueError(f"must be a number {bound}, got {value!r}")
        return float(value)

    return check


def whole(minimum: int | None = 0) -> Check:
    def check(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or (minimum is not None and value < minimum):
            bound = "" if minimum is None else f" of at least {minimum}"
            raise ValueError(f"must be a whole number{bound}, got {value!r}")
        return value

    return check


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be a non-empty string, got {value!r}")
    return value


def one_of(*choices: str) -> Check:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, got {value!r}")
        return str(value)

    return check


def optional(inner: Check) -> Check:
    def check(value: Any) -> Any:
        return None if value is None else inner(value)

    return check


def _faults(value: Any) -> FaultSpec:
    if not isinstance(value, str):
        raise ValueError(f'must be a string such as "5xx=0.1,reset=0.05", got {value!r}')
    return FaultSpec.parse(value)


def admin_routes(
    ctx: SandboxContext,
    vendors: dict[str, VendorSandbox],
    reset_all: Callable[[bool | None], None],
    fault_layer: Callable[[], FaultMiddleware],
) -> list[BaseRoute]:
    options = ctx.options

    async def reset(request: Request) -> Response:
        body = settings(await admin_body(request), {"demo": boolean})
        reset_all(body.get("demo"))
        return JSONResponse({"reset": True, "demo": options.demo})

    async def stats(request: Request) -> Response:
        data = ctx.stats.as_dict()
        for name in vendors:
            data.setdefault(name, {"requests": 0, "rate_limited": 0})
        data["faults_injected"] = dict(fault_layer().injected)
        return JSONResponse(data)

    async def config(request: Request) -> Response:
        if request.method == "POST":
            body = settings(
                await admin_body(request),
                {
                    "rate_scale": number(),
                    "faults": _faults,
                    "seed": optional(whole(None)),
                    "time_scale": number(),
                    "run_seconds": number(),
                    "reset": boolean,
                },
            )
            # Validated as a whole first: a bad value changes nothing.
            for name in ("rate_scale", "faults", "time_scale", "run_seconds"):
                if name in body:
                    setattr(options, name, body[name])
            if "seed" in body:
                options.seed = body["seed"]
                fault_layer().reseed(options.seed)
            if body.get("reset", "rate_scale" in body):
                reset_all(None)
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

    return [
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/stats", stats, methods=["GET"]),
        Route("/_sandbox/config", config, methods=["GET", "POST"]),
        Route("/_sandbox/webhook-deliveries", deliveries, methods=["GET"]),
        Route("/_sandbox/secrets", minted, methods=["GET"]),
    ]
