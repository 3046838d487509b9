"""Deterministic fault injection in front of the vendor routes.

``5xx``: answer 502/503/504 before the request reaches the vendor emulation (nothing is written);
``reset``: drop the connection before processing; ``lost``: process the request, then drop the
connection before the answer leaves (the write happened, the client does not know);
``slow``: answer after a delay.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from typing import Any

from connectors_sandbox.options import FaultSpec

Scope = dict[str, Any]


def _abort(send: Any) -> bool:
    """Close the TCP connection under this request without an answer (uvicorn's transport); true only when the
    connection is really closing (a server without a transport to abort gets its answer instead)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.abort()
    return bool(transport.is_closing())


class FaultMiddleware:
    def __init__(
        self, app: Any, faults_ref: Any, seed: int | None, prefixes: tuple[str, ...], error_body: Any = None
    ) -> None:
        self.app = app
        # path, status -> the JSON body of an injected server error, in the vendor's error format
        self.error_body = error_body or (lambda path, status: {"message": f"injected fault: HTTP {status}"})
        self.faults_ref = faults_ref  # a callable returning the current FaultSpec (reconfigurable)
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.prefixes = prefixes
        self.injected: dict[str, int] = {"5xx": 0, "reset": 0, "lost": 0, "slow": 0}

    def reseed(self, seed: int | None) -> None:
        with self.lock:
            self.rng = random.Random(seed)
            self.injected = dict.fromkeys(self.injected, 0)

    def _draw(self, spec: FaultSpec) -> str | None:
        with self.lock:
            roll = self.rng.random()
        for name, chance in (
            ("5xx", spec.server_error),
            ("reset", spec.reset),
            ("lost", spec.lost),
            ("slow", spec.slow),
        ):
            if roll < chance:
                return name
            roll -= chance
        return None

    def _applied(self, fault: str) -> None:
        """Counted once the fault took effect (the error sent, the connection aborted, the answer dropped, the
        delay served): the fault matrices' "every kind was met" guards read these counts."""
        with self.lock:
            self.injected[fault] += 1

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        spec: FaultSpec = self.faults_ref()
        path = scope.get("path", "")
        if scope["type"] != "http" or not spec.active or not path.startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        fault = self._draw(spec)
        if fault == "5xx":
            with self.lock:
                status = self.rng.choice((502, 503, 504))
            body = json.dumps(self.error_body(path, status)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            self._applied(fault)
            return
        if fault == "reset" and _abort(send):
            self._applied(fault)
            return
        if fault == "lost":
            answer: list[Any] = []

            async def hold(message: Any) -> None:
                answer.append(message)

            await self.app(scope, receive, hold)
            if _abort(send):
                self._applied(fault)
                return
            # The connection could not be aborted: the answer goes out after all (the request ran once).
            for message in answer:
                await send(message)
            return
        if fault == "slow":
            await asyncio.sleep(spec.slow_seconds)
            self._applied(fault)
        await self.app(scope, receive, send)
