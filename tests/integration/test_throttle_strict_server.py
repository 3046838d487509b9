"""Throttling holds against any server that enforces the documented limit, not only our sandbox.

This server is written independently of the sandbox and of pyrate-limiter: a classic token bucket
(a float of tokens refilled on every request) with Robaws's documented 15/s and burst 20, a little
random latency, and a hard 429 the moment the bucket is empty.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from Connectors import RobawsClient


class StrictBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()
        self.refused = 0
        self.served = 0

    def take(self) -> tuple[bool, int]:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens < 1:
                self.refused += 1
                return False, 0
            self.tokens -= 1
            self.served += 1
            return True, int(self.tokens)


@pytest.fixture
def strict_server() -> Iterator[tuple[str, StrictBucket]]:
    bucket = StrictBucket(15, 20)
    jitter = random.Random(3)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return None

        def do_GET(self) -> None:
            time.sleep(jitter.uniform(0, 0.004))  # network and server jitter
            allowed, remaining = bucket.take()
            body = json.dumps({"id": 1001, "name": "ACME"} if allowed else {"message": "Too Many Requests"}).encode()
            self.send_response(200 if allowed else 429)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-RateLimit-Remaining", str(remaining))
            if not allowed:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", bucket
    httpd.shutdown()


def test_lone_client_at_the_vendor_limit_gets_no_429(strict_server, monkeypatch) -> None:
    url, bucket = strict_server
    monkeypatch.delenv("CONNECTORS_THROTTLE_STORE", raising=False)
    client = RobawsClient(url, username="u", password="p-strict-server", rate_limit="15/s", burst=20)
    started = time.monotonic()
    for _ in range(80):
        client.get("clients", 1001)
    elapsed = time.monotonic() - started
    assert bucket.refused == 0
    assert bucket.served == 80
    # (80 - 20) / 15 = 4 s is the server's minimum; the client stays close to it.
    assert elapsed >= 3.9
