"""Pieces every vendor emulation uses: statistics, server-side token buckets, the error every handler
raises, credentials from headers, and JSON bodies that are checked before anything is stored."""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pyrate_limiter import InMemoryStateStore, TokenBucket
from pyrate_limiter.abstracts.rate import Rate
from starlette.requests import Request


class ApiError(Exception):
    """A refusal raised anywhere in a vendor emulation; the request pipeline writes it in the vendor's
    own error format.

    ``fields`` are extra keys of the vendor's error object (e.g. Robaws' list of field errors); ``body``
    replaces the whole answer where the vendor documents another shape for this case (Cobot's 422
    ``{"errors": {...}}``).
    """

    def __init__(
        self,
        message: str,
        status: int = 400,
        *,
        headers: Mapping[str, str] | None = None,
        fields: dict[str, Any] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = dict(headers or {})
        self.fields = dict(fields or {})
        self.body = body


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
    """A fixed daily window per key (resets at midnight UTC)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _today() -> tuple[int, int]:
        now = int(time.time())
        return now // 86400, 86400 - now % 86400

    def take(self, key: str) -> tuple[bool, int, int]:
        """(allowed, remaining after this call, seconds until reset)."""
        day, reset_in = self._today()
        with self._lock:
            current_day, used = self._used.get(key, (day, 0))
            if current_day != day:
                used = 0
            if used >= self.limit:
                return False, 0, reset_in
            used += 1
            self._used[key] = (day, used)
            return True, self.limit - used, reset_in

    def peek(self, key: str) -> tuple[int, int]:
        """(remaining, seconds until reset) without spending a request."""
        day, reset_in = self._today()
        with self._lock:
            current_day, used = self._used.get(key, (day, 0))
        return (self.limit if current_day != day else max(0, self.limit - used)), reset_in


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity parse in Python but cannot be written back as JSON: refused like any other
    # value that could be stored but never served.
    raise ValueError(f"{name} is not a JSON number")


def check_text(value: Any) -> None:
    """Raise ``ApiError`` (400) when ``value`` holds a string that is not valid Unicode (a lone surrogate
    such as ``"\\ud800"``), which JSON can spell but no answer can carry."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ApiError(
                    "The JSON body contains text that is not valid Unicode (an unpaired surrogate such as \\ud800)"
                ) from None


def parse_json(raw: bytes) -> Any:
    """Decode a request body as JSON, or raise ``ApiError`` (400) naming the problem."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise ApiError("Malformed JSON body: nested too deeply") from None
    except ValueError as exc:  # also UnicodeDecodeError: bytes that are not UTF-8
        raise ApiError(f"Malformed JSON body: {exc}") from None
    check_text(value)
    return value


async def json_body(request: Request) -> Any:
    """The parsed JSON body (None when empty), or raises ``ApiError`` with a readable message."""
    raw = await request.body()
    return parse_json(raw) if raw else None


def ceil_seconds(value: float) -> int:
    return max(1, math.ceil(value))
