"""Helpers shared by the benchmarks: a Redis server on a free port, table printing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


@contextmanager
def redis_server() -> Iterator[str | None]:
    """A throwaway redis-server on a free port, or None when it is not installed."""
    from Connectors.sandbox.server import free_port

    binary = shutil.which("redis-server")
    if not binary:
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--save", "", "--dir", directory], stdout=subprocess.DEVNULL
        )
        try:
            import redis

            client = redis.Redis(port=port)
            for _ in range(100):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(10)


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    cells = [headers] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        pairs = enumerate(zip(row, widths, strict=True))
        print("  ".join(str(v).rjust(w) if i else str(v).ljust(w) for i, (v, w) in pairs))
        if index == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
