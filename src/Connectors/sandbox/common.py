"""Pieces every vendor emulation uses: options, statistics, server-side token buckets, JSON replies."""

from __future__ import annotations

import base64
import math
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pyrate_limiter import InMemoryStateStore, TokenBucket
from pyrate_limiter.abstracts.rate import Rate
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


@dataclass
class FaultSpec:
    """Probabilities of injected faults per request (``--faults 5xx=0.1,reset=0.05,lost=0.05,slow=0.02``)."""

    server_error: float = 0.0
    reset: float = 0.0
    lost: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 1.0

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        spec = cls()
        names = {
            "5xx": "server_error",
            "500": "server_error",
            "reset": "reset",
            "lost": "lost",
            "slow": "slow",
            "slow_seconds": "slow_seconds",
        }
        for part in (text or "").split(","):
            if not part.strip():
                continue
            name, _, value = part.partition("=")
            attr = names.get(name.strip().lower())
            if attr is None:
                raise ValueError(f"unknown fault {name!r}; use 5xx, reset, lost, slow, slow_seconds")
            setattr(spec, attr, float(value))
        return spec

    @property
    def active(self) -> bool:
        return any((self.server_error, self.reset, self.lost, self.slow))


@dataclass
class SandboxOptions:
    demo: bool = False
    rate_scale: float = 1.0
    seed: int | None = None
    faults: FaultSpec = field(default_factory=FaultSpec)
    # Seconds a Control Room run takes in sandbox time, and how fast sandbox time runs.
    run_seconds: float = 6.0
    time_scale: float = 1.0
    public_url: str = ""
    vendors: tuple[str, ...] = ("robaws", "cobot", "controlroom", "robostack")


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.vendors: dict[str, dict[str, int]] = defaultdict(lambda: {"requests": 0, "rate_limited": 0})
            self.counters: dict[str, int] = defaultdict(int)

    def count_request(self, vendor: str, status: int) -> None:
        with self._lock:
            entry = self.vendors[vendor]
            entry["requests"] += 1
            if status == 429:
                entry["rate_limited"] += 1

    def bump(self, name: str, vendor: str | None = None, amount: int = 1) -> None:
        with self._lock:
            self.counters[name] += amount
            if vendor:
                self.vendors[vendor][name] = self.vendors[vendor].get(name, 0) + amount

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            data: dict[str, Any] = {name: dict(values) for name, values in self.vendors.items()}
            data.update(self.counters)
            data.setdefault("idempotent_replays", 0)
            return data


class ServerBucket:
    """A server-side token bucket per key (credential), using pyrate-limiter's GCRA policy."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second = per_second
        self.burst = burst
        self.rates = [Rate(max(1, round(per_second * 1000)), 1_000_000, burst=burst)]
        self.algorithm = TokenBucket()
        self._stores: dict[str, InMemoryStateStore] = {}
        self._lock = threading.Lock()

    def _store(self, key: str) -> InMemoryStateStore:
        with self._lock:
            return self._stores.setdefault(key, InMemoryStateStore())

    @staticmethod
    def _now() -> int:
        return time.monotonic_ns() // 1_000_000

    def take(self, key: str) -> tuple[bool, int, float]:
        """Spend a token: (allowed, tokens remaining, seconds until the next token)."""
        store = self._store(key)
        now = self._now()
        decision = store.check(self.algorithm, self.rates, now, 1)
        used = self.algorithm.consumed(self.rates, store.read(self.algorithm, self.rates), now)
        remaining = max(0, self.burst - used)
        wait = 0.0 if decision.allowed else (decision.retry_after_ms or 0) / 1000
        return decision.allowed, remaining, wait

    def reset(self) -> None:
        with self._lock:
            self._stores.clear()


class DailyQuota:
    """A fixed daily window per key (resets at midnight UTC of sandbox time)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> tuple[bool, int, int]:
        """(allowed, remaining after this call, seconds until reset)."""
        now = int(time.time())
        day, reset_in = now // 86400, 86400 - now % 86400
        with self._lock:
            current_day, used = self._used.get(key, (day, 0))
            if current_day != day:
                used = 0
            if used >= self.limit:
                return False, 0, reset_in
            used += 1
            self._used[key] = (day, used)
            return True, self.limit - used, reset_in

    def reset(self) -> None:
        with self._lock:
            self._used.clear()


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, **extra}, status_code=status)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


async def json_body(request: Request) -> Any:
    """The parsed JSON body, or raises ``BadRequest`` with a readable message."""
    raw = await request.body()
    if not raw:
        return None
    import json

    try:
        return json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"Malformed JSON body: {exc}") from exc


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def no_content() -> Response:
    return Response(status_code=204)


def ceil_seconds(value: float) -> int:
    return max(1, math.ceil(value))


def make_rng(seed: int | None) -> random.Random:
    return random.Random(seed)
