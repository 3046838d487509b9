"""The one request pipeline every vendor emulation runs its API calls through:

    authenticate → rate-limit → authorise → handle → map errors

A vendor emulation subclasses :class:`RequestPipeline`, fills in the steps it needs and declares its
routes with :meth:`RequestPipeline.route`. Any step raises :class:`ApiError` to refuse the call; the
last step writes that refusal in the vendor's own error format (:class:`ErrorFormat`). Anything else a
handler raises becomes a 500 in the same format, and the access log records it in one line (method,
path, exception type): never the body or the headers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors_sandbox.common import ApiError

# Key in the ASGI scope: the type of an exception that became a 5xx answer, for the access log.
ERROR_TYPE = "connectors.sandbox.error"

A = TypeVar("A")  # what a route requires (each vendor has its own rules)
P = TypeVar("P")  # who is calling, as the vendor's authenticate step found out


class ErrorFormat:
    """How a vendor writes an error: ``{<key>: message, **fields}`` unless the error brings its own body.

    Subclass it for other shapes (Control Room's ``{"error": {"code", "message"}}``, for instance).
    """

    def __init__(self, key: str = "message") -> None:
        self.key = key

    def body(self, error: ApiError) -> Any:
        if error.body is not None:
            return error.body
        return {self.key: error.message, **error.fields}

    def response(self, error: ApiError) -> Response:
        return JSONResponse(self.body(error), status_code=error.status, headers=error.headers)


def note_server_error(scope: MutableMapping[str, Any], exc: BaseException) -> None:
    """Remember which exception became a 5xx answer, so the access log can name it."""
    scope[ERROR_TYPE] = type(exc).__name__


@dataclass
class Call(Generic[A, P]):
    """One API request on its way through the pipeline."""

    request: Request
    access: A
    principal: P
    # Headers the answer carries whatever it is (rate-limit headers go on errors too).
    headers: dict[str, str] = field(default_factory=dict)
    # What a step resolved for the handler (Robaws: the database mode; Cobot: the space; Robostack: the resource).
    target: Any = None

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.request.path_params)


Handler = Callable[[Call[A, P]], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class RequestPipeline(ABC, Generic[A, P]):
    """The shared request pipeline; a vendor emulation overrides the steps it needs."""

    errors: ErrorFormat = ErrorFormat()

    @abstractmethod
    def authenticate(self, request: Request, access: A, headers: dict[str, str]) -> P:
        """Who is calling; raise ``ApiError`` (401) when nobody valid is. ``headers`` go on any answer."""

    def rate_limit(self, call: Call[A, P]) -> None:
        """Spend the caller's budget (adding the vendor's rate-limit headers); raise a 429 when spent."""

    def authorise(self, call: Call[A, P]) -> None:
        """Check that the caller may do what the route does (403/404); resolve ``call.target``."""

    async def handle(self, call: Call[A, P], handler: Handler[A, P]) -> Response:
        """Run the handler; a vendor may wrap it (Robaws: idempotency keys)."""
        return await handler(call)

    def endpoint(self, handler: Handler[A, P], access: A) -> Endpoint:
        async def run(request: Request) -> Response:
            headers: dict[str, str] = {}
            try:
                call = Call(request, access, self.authenticate(request, access, headers), headers)
                self.rate_limit(call)
                self.authorise(call)
                response = await self.handle(call, handler)
            except ApiError as exc:
                response = self.errors.response(exc)
            except HTTPException as exc:  # Starlette's own refusals (a malformed multipart body, ...)
                refusal = ApiError(str(exc.detail), exc.status_code, headers=dict(exc.headers or {}))
                response = self.errors.response(refusal)
            except Exception as exc:  # every other failure is the sandbox's: a logged 500, never a traceback
                note_server_error(request.scope, exc)
                response = self.errors.response(ApiError("Internal server error", 500))
            for name, value in headers.items():
                response.headers[name] = value
            return response

        return run

    def route(self, path: str, handler: Handler[A, P], access: A, methods: list[str]) -> Route:
        return Route(path, self.endpoint(handler, access), methods=methods)


def allowed(call: Call[Any, Any], *methods: str) -> None:
    """Refuse a method the resource does not support with the vendor's 405 (and ``Allow``)."""
    if call.request.method not in methods and not (call.request.method == "HEAD" and "GET" in methods):
        raise ApiError(
            f"{call.request.method} is not allowed on {call.request.url.path}",
            405,
            headers={"Allow": ", ".join(methods)},
        )
