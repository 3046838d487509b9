"""A throwaway redis-server on a free port that a test can stop and start again on the same port."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType


class RedisServer:
    """``with RedisServer() as server: server.url``; ``server.stop()`` / ``server.start()`` mid-run."""

    def __init__(self, port: int | None = None) -> None:
        from connectors_sandbox.server import free_port

        self.binary = shutil.which("redis-server")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self._directory = tempfile.TemporaryDirectory()

    @property
    def available(self) -> bool:
        return self.binary is not None

    def start(self, timeout: float = 10.0) -> None:
        assert self.binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--save", "", "--appendonly", "no", "--dir", self._directory.name],
            stdout=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                client.close()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def __enter__(self) -> RedisServer:
        if self.available:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
        self._directory.cleanup()


@contextmanager
def redis_or_skip() -> Iterator[RedisServer]:
    """A running RedisServer for a test fixture, or the test skipped where redis-server is missing."""
    import pytest

    server = RedisServer()
    if not server.available:
        pytest.skip("redis-server is not installed")
    with server:
        yield server
