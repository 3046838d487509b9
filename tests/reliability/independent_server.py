"""A small Robaws-like server that is not our sandbox: the documented idempotency rules, and faults.

It implements only what the exactly-once tests need - ``POST /api/v2/<collection>`` and ``GET`` of a
collection - from Robaws' documentation (``Idempotency-Key`` on POST/PUT/PATCH, a repeated key answers the
original response when the original succeeded, concurrent use of one key answers 409), on the standard
library's HTTP server, so that a client bug and a sandbox bug cannot cancel each other out.

Faults are drawn per request from a seeded generator:
- ``before``: the connection is closed before anything is written (nothing happened);
- ``5xx``: 503 before anything is written;
- ``lost``: the object is written, then the connection is closed without an answer.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Faults:
    before: float = 0.0
    server_error: float = 0.0
    lost: float = 0.0
    seed: int = 1
    injected: dict[str, int] = field(default_factory=lambda: {"before": 0, "5xx": 0, "lost": 0})

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        with self._lock:
            roll = self._rng.random()
            for name, chance in (("before", self.before), ("5xx", self.server_error), ("lost", self.lost)):
                if roll < chance:
                    self.injected[name] += 1
                    return name
                roll -= chance
        return None


class Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.objects: dict[str, list[dict[str, Any]]] = {}
        self.replies: dict[str, tuple[int, bytes]] = {}
        self.in_flight: set[str] = set()
        self.replays = 0


class IndependentServer:
    """``with IndependentServer(Faults(...)) as server: server.url`` (a Robaws site URL)."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.store = Store()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _drop(self) -> None:
                # Close the socket under the request: the client sees a dropped connection, no answer.
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

            def do_GET(self) -> None:
                collection = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
                with server.store.lock:
                    items = list(server.store.objects.get(collection, []))
                self._reply(200, json.dumps({"items": items, "totalPages": 1}).encode())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = server.faults.draw()
                if fault == "before":
                    return self._drop()
                if fault == "5xx":
                    return self._reply(503, b'{"message": "injected: unavailable"}')
                key = self.headers.get("Idempotency-Key")
                collection = self.path.rstrip("/").rsplit("/", 1)[-1]
                store = server.store
                with store.lock:
                    if key and key in store.replies:
                        store.replays += 1
                        status, reply = store.replies[key]
                        replay = True
                    elif key and key in store.in_flight:
                        status, reply, replay = 409, b'{"message": "request in progress"}', True
                    else:
                        replay = False
                        if key:
                            store.in_flight.add(key)
                if not replay:
                    created = {**json.loads(body or b"{}"), "id": None}
                    with store.lock:
                        items = store.objects.setdefault(collection, [])
                        created["id"] = len(items) + 1
                        items.append(created)
                        status, reply = 201, json.dumps(created).encode()
                        if key:
                            store.replies[key] = (status, reply)
                            store.in_flight.discard(key)
                if fault == "lost":
                    return self._drop()
                self._reply(status, reply)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> IndependentServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
