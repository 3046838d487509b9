"""Proactive and reactive client-side throttling.

Proactive: a token bucket (pyrate-limiter's ``TokenBucket`` policy) per vendor and credential,
plus optional per-endpoint buckets and a daily quota, kept in the store chosen by
``CONNECTORS_THROTTLE_STORE``. A safety margin below the vendor's published limit absorbs network
jitter, so a client alone on a credential never sees a 429.

Reactive: after each response the vendor's rate-limit headers are read. When the server reports it
is nearly out of tokens the client pauses for the time the server needs to refill, before the
server has to refuse; when a daily quota is used up, calls fail at once with the reset time instead
of hammering the server.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyrate_limiter import Decision, TokenBucket
from pyrate_limiter.abstracts.rate import Rate

from Connectors.core.config import RateSpec
from Connectors.core.errors import RateLimited
from Connectors.core.stores import describe_store, open_store, wall_ms

# Waits shorter than this are routine pacing and not worth a log line.
LOG_WAIT_THRESHOLD = 0.1


@dataclass(frozen=True)
class EndpointLimit:
    """A stricter limit for some calls, e.g. ``GET /api/memberships`` at 6/min."""

    pattern: str
    rate: RateSpec
    method: str | None = None
    name: str = ""

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return re.search(self.pattern, path) is not None

    @property
    def bucket_name(self) -> str:
        return self.name or re.sub(r"[^a-z0-9]+", "-", f"{self.method or 'any'}-{self.pattern}".lower()).strip("-")


@dataclass(frozen=True)
class RateLimitHeaders:
    """Names of the headers in which a vendor reports its limits (any may be absent)."""

    remaining: str | None = None
    daily_remaining: str | None = None
    daily_limit: str | None = None
    daily_reset: str | None = None
    retry_after: str = "Retry-After"


@dataclass
class ThrottleStatus:
    rate: str
    burst: int
    store: str
    waited_seconds: float = 0.0
    waits: int = 0
    remaining: int | None = None
    daily_remaining: dict[str, int] = field(default_factory=dict)
    daily_limit: int | None = None
    daily_reset_seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _to_rate(spec: RateSpec, safety: float) -> Rate:
    # GCRA needs an integer limit: express the per-second rate in thousandths over 1000 s.
    per_second = spec.per_second * safety
    capacity = spec.capacity
    burst = max(1, capacity - max(1, math.ceil(capacity * (1 - safety)))) if capacity > 1 else 1
    return Rate(max(1, round(per_second * 1000)), 1_000_000, burst=burst)


class _Bucket:
    def __init__(
        self, key: str, spec: RateSpec, store_url: str | None, safety: float, daily_quota: int | None = None
    ) -> None:
        self.spec = spec
        self.rates = [_to_rate(spec, safety)]
        if daily_quota:
            self.rates.append(Rate(daily_quota, 86_400_000, burst=daily_quota))
        self.algorithm = TokenBucket()
        self.store = open_store(store_url, key)
        self.shared = describe_store(store_url) != "memory"

    def now(self) -> int:
        # Shared stores compare timestamps across processes, so they need the wall clock.
        return wall_ms() if self.shared else time.monotonic_ns() // 1_000_000

    def try_take(self) -> float:
        """Take a token; return 0 when admitted, otherwise the seconds to wait before trying again."""
        decision = self.store.check(self.algorithm, self.rates, self.now(), 1)
        # Only synchronous stores are opened here (sync Redis client), so this is never awaitable.
        assert isinstance(decision, Decision)
        if decision.allowed:
            return 0.0
        return max(0.001, (decision.retry_after_ms or 10) / 1000)

    def is_daily(self, decision_wait: float) -> bool:
        return len(self.rates) > 1 and decision_wait > 60


class Throttle:
    """Client-side limits for one vendor credential, shared through the configured store."""

    def __init__(
        self,
        key: str,
        rate: RateSpec | None,
        *,
        vendor: str = "",
        daily_quota: int | None = None,
        endpoint_limits: Sequence[EndpointLimit] = (),
        store_url: str | None = None,
        safety: float = 0.98,
        headers: RateLimitHeaders | None = None,
        low_water: int = 2,
        log: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = key
        self.vendor = vendor
        self.rate = rate
        self.safety = safety
        self.headers = headers or RateLimitHeaders()
        self.low_water = low_water
        self._log = log or (lambda _message: None)
        self._sleep = sleep
        self._store_url = store_url
        self._bucket = _Bucket(key, rate, store_url, safety, daily_quota) if rate else None
        self._endpoint_limits = list(endpoint_limits)
        self._endpoint_buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._pause_until = 0.0
        self._daily_exhausted: dict[str, float] = {}
        self.status = ThrottleStatus(
            rate=str(rate) if rate else "unlimited",
            burst=rate.capacity if rate else 0,
            store=describe_store(store_url),
        )

    # -- proactive -------------------------------------------------------------------------
    def _buckets_for(self, method: str, path: str) -> list[tuple[str, _Bucket]]:
        buckets = [("", self._bucket)] if self._bucket else []
        for limit in self._endpoint_limits:
            if limit.matches(method, path):
                name = limit.bucket_name
                with self._lock:
                    bucket = self._endpoint_buckets.get(name)
                    if bucket is None:
                        bucket = _Bucket(f"{self.key}:{name}", limit.rate, self._store_url, self.safety)
                        self._endpoint_buckets[name] = bucket
                buckets.append((f"{method} {limit.pattern}", bucket))
        return buckets

    def acquire(self, method: str, path: str, quota_scope: str = "") -> float:
        """Block until every bucket that applies to this call admits it; return the seconds waited."""
        self._check_daily(quota_scope)
        waited = 0.0
        pause = self._pause_until - time.monotonic()
        if pause > 0:
            self._wait(pause, "the server reported it is almost out of tokens")
            waited += pause
        for label, bucket in self._buckets_for(method, path):
            while True:
                wait = bucket.try_take()
                if wait == 0:
                    break
                if bucket.is_daily(wait):
                    raise RateLimited(
                        f"The client-side daily quota is used up; the next request is allowed in {wait:.0f} s.",
                        vendor=self.vendor,
                        method=method,
                        path=path,
                        retry_after=wait,
                    )
                reason = f"endpoint limit {bucket.spec} on {label}" if label else f"rate limit {bucket.spec}"
                self._wait(wait, reason)
                waited += wait
        return waited

    def _wait(self, seconds: float, reason: str) -> None:
        if seconds > LOG_WAIT_THRESHOLD:
            self._log(f"Throttling {self.vendor}: waiting {seconds:.2f} s ({reason}).")
        self.status.waits += 1
        self.status.waited_seconds += seconds
        self._sleep(seconds)

    def _check_daily(self, scope: str) -> None:
        until = self._daily_exhausted.get(scope)
        if until is None:
            return
        remaining = until - time.monotonic()
        if remaining <= 0:
            self._daily_exhausted.pop(scope, None)
            return
        mode = f" ({scope} mode)" if scope else ""
        raise RateLimited(
            f"The daily request quota{mode} is used up; it resets in {remaining:.0f} s.",
            vendor=self.vendor,
            retry_after=remaining,
            hint="Spread the work over days, use the read-only replica mode for bulk reads, "
            "or ask the vendor for a higher quota.",
        )

    # -- reactive --------------------------------------------------------------------------
    def observe(self, headers: Mapping[str, str], quota_scope: str = "") -> None:
        """Read the vendor's rate-limit headers from a response."""
        remaining = _int_header(headers, self.headers.remaining)
        if remaining is not None:
            self.status.remaining = remaining
            if remaining <= self.low_water and self.rate:
                # Time for the server's bucket to refill back above the low-water mark.
                pause = (self.low_water + 1 - remaining) / self.rate.per_second
                with self._lock:
                    self._pause_until = max(self._pause_until, time.monotonic() + pause)
        daily = _int_header(headers, self.headers.daily_remaining)
        if daily is not None:
            self.status.daily_remaining[quota_scope or "default"] = daily
            limit = _int_header(headers, self.headers.daily_limit)
            if limit is not None:
                self.status.daily_limit = limit
            reset = _float_header(headers, self.headers.daily_reset)
            if reset is not None:
                self.status.daily_reset_seconds[quota_scope or "default"] = reset
            if daily <= 0:
                self._daily_exhausted[quota_scope] = time.monotonic() + (reset if reset is not None else 3600)

    def retry_after(self, headers: Mapping[str, str]) -> float | None:
        return _float_header(headers, self.headers.retry_after)


def _int_header(headers: Mapping[str, str], name: str | None) -> int | None:
    value = _float_header(headers, name)
    return None if value is None else int(value)


def _float_header(headers: Mapping[str, str], name: str | None) -> float | None:
    if not name:
        return None
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None
