"""The HTTP face of the receiver: ``POST /webhooks/{source}`` and ``GET /health``.

The body is streamed and counted: reading stops at the size limit (413), and the declared
``Content-Length`` and the signature header are checked before the first byte of it is read, so an
unsigned or oversized request costs at most ``max_body`` bytes of memory. The server (uvicorn) stops
reading from a socket whose unread body passes a small buffer, so nothing piles up below us either.
"""

from __future__ import annotations

import asyncio
from typing import Any

from Connectors.core import log
from Connectors.webhooks.cobot import NAME as COBOT
from Connectors.webhooks.cobot import TOKEN_HEADER as COBOT_TOKEN_HEADER
from Connectors.webhooks.receiver import Receiver, Refused

BODY_TIMEOUT = 30.0  # seconds for a whole body to arrive: a slow sender cannot hold a slot forever


def _json(status: int, body: dict[str, Any], close: bool = False) -> Any:
    from starlette.responses import JSONResponse

    # An unread body cannot be skipped on a kept-alive connection: say we close it.
    return JSONResponse(body, status_code=status, headers={"Connection": "close"} if close else None)


async def _bounded_body(request: Any, limit: int) -> bytes | None:
    """The body, or None as soon as it passes ``limit`` bytes (the rest is never read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(receiver: Receiver, body_timeout: float = BODY_TIMEOUT) -> Any:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import ClientDisconnect, Request
    from starlette.routing import Route

    async def deliver(request: Request) -> Any:
        name = request.path_params["source"]
        if name == COBOT:  # reached only with its secret path token (below)
            return _json(404, {"error": "unknown webhook source"}, close=True)
        return await receive(request, name, request.headers)

    async def deliver_cobot(request: Request) -> Any:
        # Cobot signs nothing: the path token is its proof, checked as the source's "signature header".
        headers = {k: v for k, v in request.headers.items() if k != COBOT_TOKEN_HEADER}
        headers[COBOT_TOKEN_HEADER] = request.path_params["token"]
        return await receive(request, COBOT, headers)

    async def receive(request: Request, name: str, headers: Any) -> Any:
        try:
            source, parsed = receiver.precheck(name, headers)
            try:
                body = await asyncio.wait_for(_bounded_body(request, receiver.max_body), body_timeout)
            except asyncio.TimeoutError:
                raise receiver.refuse(408, "the body did not arrive in time", source)
            if body is None:
                raise receiver.refuse(413, f"the body is larger than {receiver.max_body} bytes", source)
            # SQLite commits with a full sync: off the event loop.
            status, answer = await run_in_threadpool(receiver.accept, source, parsed, body)
            return _json(status, answer)
        except Refused as refusal:
            # Refused before or while the body was read: close rather than drain the rest of it.
            return _json(refusal.status, {"error": refusal.reason}, close=True)
        except ClientDisconnect:
            return _json(400, {"error": "the client went away"}, close=True)
        except Exception as error:  # one fixed line, never a traceback or the request
            log.info(f"Webhook delivery failed inside the receiver: {type(error).__name__}")
            return _json(500, {"error": "internal error; deliver it again later"}, close=True)

    async def health(request: Request) -> Any:
        return _json(200, await run_in_threadpool(receiver.health))

    return Starlette(
        routes=[
            Route("/webhooks/{source}", deliver, methods=["POST"]),
            Route("/webhooks/cobot/{token}", deliver_cobot, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
