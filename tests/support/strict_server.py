"""A strict rate-limited HTTP server that is not our sandbox.

Written independently of the sandbox and of pyrate-limiter: a classic token bucket (a float of tokens
refilled on every request), a little random latency before the bucket is consulted, and a hard 429
the moment the bucket is empty. It answers every GET with a small JSON object and reports
``X-RateLimit-Remaining`` like Robaws does. An optional daily limit answers with the
``X-RateLimit-Daily-*`` headers and a 429 when spent.

Run it in a child process (``StrictServerProcess``) for multi-process tests and benchmarks, so the
workers never share its interpreter, or in a thread (``serve_in_thread``) for a lone client.
``GET /_strict/stats`` returns the counts; ``POST /_strict/reset`` refills the bucket and zeroes them.

    python tests/support/strict_server.py --port 8123 --rate 150 --burst 200 [--daily-limit 100]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class StrictBucket:
    def __init__(self, rate: float, burst: int, daily_limit: int | None = None) -> None:
        self.rate, self.burst, self.daily_limit = rate, burst, daily_limit
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.tokens = float(self.burst)
            self.stamp = time.monotonic()
            self.refused = 0
            self.served = 0
            self.daily_used = 0
            self.daily_refused = 0

    def take(self) -> tuple[int, dict[str, str]]:
        """(status, headers) for one request."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens < 1:
                self.refused += 1
                return 429, {"X-RateLimit-Remaining": "0", "Retry-After": "1", **self._daily()}
            if self.daily_limit is not None and self.daily_used >= self.daily_limit:
                self.daily_refused += 1
                return 429, {"X-RateLimit-Remaining": str(int(self.tokens)), **self._daily()}
            self.tokens -= 1
            self.served += 1
            self.daily_used += 1
            return 200, {"X-RateLimit-Remaining": str(int(self.tokens)), **self._daily()}

    def _daily(self) -> dict[str, str]:
        if self.daily_limit is None:
            return {}
        return {
            "X-RateLimit-Daily-Limit": str(self.daily_limit),
            "X-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - self.daily_used)),
            "X-RateLimit-Daily-Reset": str(86_400 - int(time.time()) % 86_400),
        }

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "served": self.served,
                "refused": self.refused,
                "daily_used": self.daily_used,
                "daily_refused": self.daily_refused,
            }


def send_json(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    """Answer with a JSON body (and Content-Length, for keep-alive connections)."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def make_server(bucket: StrictBucket, port: int = 0, seed: int = 3) -> ThreadingHTTPServer:
    jitter = random.Random(seed)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without TCP_NODELAY the body waits for the
        # client's delayed ACK, 40 ms a request.
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            return None

        def do_GET(self) -> None:
            if self.path == "/_strict/stats":
                send_json(self, 200, bucket.stats())
                return
            time.sleep(jitter.uniform(0, 0.004))  # network and server jitter
            status, headers = bucket.take()
            body = {"id": 1001, "name": "ACME"} if status == 200 else {"message": "Too Many Requests"}
            send_json(self, status, body, headers)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if self.path == "/_strict/reset":
                bucket.reset()
                send_json(self, 200, bucket.stats())
            else:
                send_json(self, 404, {"message": "Not found"})

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


@contextmanager
def serve_in_thread(rate: float, burst: int, daily_limit: int | None = None) -> Iterator[tuple[str, StrictBucket]]:
    bucket = StrictBucket(rate, burst, daily_limit)
    server = make_server(bucket)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bucket
    finally:
        server.shutdown()
        server.server_close()


class StrictServerProcess:
    """The strict server in a child process on a free port (a context manager)."""

    def __init__(self, rate: float, burst: int, daily_limit: int | None = None) -> None:
        self.rate, self.burst, self.daily_limit = rate, burst, daily_limit
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> StrictServerProcess:
        args = [sys.executable, str(Path(__file__).resolve()), "--rate", str(self.rate), "--burst", str(self.burst)]
        if self.daily_limit is not None:
            args += ["--daily-limit", str(self.daily_limit)]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        if not line.startswith("http://"):
            self.process.kill()
            raise RuntimeError(f"The strict server did not start: {line!r}")
        self.url = line
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(10)

    def _call(self, method: str, path: str) -> dict[str, Any]:
        request = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.loads(response.read()))

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/_strict/stats")

    def reset(self) -> dict[str, Any]:
        return self._call("POST", "/_strict/reset")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=float, default=150)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--daily-limit", type=int, default=None)
    args = parser.parse_args()
    server = make_server(StrictBucket(args.rate, args.burst, args.daily_limit), args.port)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
