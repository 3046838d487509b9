"""The layers around every request: the access log (statistics, one line per request, every 5xx named)
and the guard of the admin endpoints under ``/_sandbox`` (JSON only, optional token)."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from connectors_sandbox.common import ApiError, Stats
from connectors_sandbox.pipeline import ERROR_TYPE

log = logging.getLogger("connectors.sandbox")

Scope = dict[str, Any]
ADMIN_PREFIX = "/_sandbox"
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


async def send_json(send: Any, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


class AccessLog:
    """Counts requests and 429s per vendor prefix and writes one line per request: method, path (never
    the query string, which may carry tokens), status, and for a 5xx the exception behind it.

    An exception that escapes the application is answered with a JSON 500 here and not raised further,
    so the server prints no traceback (which could quote request data).
    """

    def __init__(
        self,
        app: Any,
        stats: Stats,
        vendors: tuple[str, ...],
        error_response: Callable[[str, ApiError], Response],
        log_path: Callable[[str], str] = str,
    ) -> None:
        self.app = app
        self.stats = stats
        self.prefixes = {f"/{name}": name for name in vendors}
        self.error_response = error_response  # (path, error) -> the answer in that vendor's error format
        self.log_path = log_path  # path -> the path with any credential in it masked

    def _vendor(self, path: str) -> str | None:
        return next(
            (name for prefix, name in self.prefixes.items() if path == prefix or path.startswith(prefix + "/")), None
        )

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        state = {"status": 0}

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except Exception as exc:
            scope[ERROR_TYPE] = type(exc).__name__
            if not state["status"]:
                await self.error_response(path, ApiError("Internal server error", 500))(scope, receive, capture)
        status = state["status"]
        vendor = self._vendor(path)
        if vendor:
            self.stats.count_request(vendor, status)
        shown = self.log_path(path)
        if status >= 500:
            log.error("%s %s -> %s (%s)", scope.get("method"), shown, status, scope.get(ERROR_TYPE, "no exception"))
        else:
            log.info("%s %s -> %s", scope.get("method"), shown, status)


class AdminGuard:
    """``/_sandbox/*`` takes JSON only (a form or text/plain POST, the kind any web page can send
    cross-site without asking, is refused with 415) and, when the sandbox has an admin token, only
    requests that carry it. No CORS headers are ever sent, so browsers keep other origins out."""

    def __init__(self, app: Any, token: Callable[[], str | None]) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        token = self.token()
        if token:
            given = headers.get("authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() != "bearer" or not secrets.compare_digest(value.strip().encode(), token.encode()):
                await send_json(
                    send,
                    401,
                    {
                        "message": "This sandbox's admin endpoints need its admin token: send "
                        "'Authorization: Bearer <token>' (the value of --admin-token / CONNECTORS_SANDBOX_ADMIN_TOKEN)"
                    },
                    {"WWW-Authenticate": 'Bearer realm="sandbox admin"'},
                )
                return
        if scope.get("method") in _BODY_METHODS:
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            if media != "application/json":
                await send_json(
                    send,
                    415,
                    {
                        "message": f"The admin endpoints take JSON only: send Content-Type application/json "
                        f"(with a JSON object body, {{}} for none), not {media or 'no content type'}"
                    },
                )
                return
        await self.app(scope, receive, send)
