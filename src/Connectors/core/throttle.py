"""Proactive and reactive client-side throttling, for one worker or many sharing a credential.

Proactive: a token bucket per vendor and credential, optional per-endpoint buckets and a daily
quota per tenant and mode, kept in the store chosen by ``CONNECTORS_THROTTLE_STORE`` (``stores``).
Every call books its slot in the bucket (``buckets.reserve``) and sleeps until it is due.

A safety margin below the vendor's published limit absorbs what happens between booking a slot
and the server counting the request (scheduling, the network, the server's own threads). That
spread grows with the number of workers sharing the bucket, so the margin is sized to them: the
workers configured (``CONNECTORS_THROTTLE_WORKERS``) or seen at work in the shared store,
whichever is more.

Reactive: after each response the vendor's rate-limit headers are read. When the server has fewer
tokens left than the workers may have in flight, the shared bucket is drained to match, so every
worker pauses - not only the one that read the header. When the day's quota is spent, calls fail
at once with the reset time instead of crawling or hammering the server.

Without a reachable shared store (``memory``, or a shared store that went away) each of the N
workers takes 1/N of every limit, so N workers together still stay under the vendor's limits.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from Connectors.core import progress, quota
from Connectors.core.admission import Admission, Admit, DailyCount
from Connectors.core.buckets import Shape, drain
from Connectors.core.config import RateSpec
from Connectors.core.errors import RateLimited
from Connectors.core.stores import Context, State, States, ThrottleStore

# Waits shorter than this are routine pacing and not worth a log line.
LOG_WAIT_THRESHOLD = 0.1
# The spread (seconds) between booking a slot and the server counting it, per worker sharing it.
JITTER_PER_WORKER = 0.004


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
    workers: int = 1
    active_workers: int = 1
    waited_seconds: float = 0.0
    waits: int = 0
    remaining: int | None = None
    # Per mode ("default" when the vendor has none): used, limit, remaining, reset_seconds, resets_at.
    daily: dict[str, dict[str, Any]] = field(default_factory=dict)
    daily_remaining: dict[str, int] = field(default_factory=dict)
    daily_limit: int | None = None
    daily_reset_seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Bucket:
    def __init__(self, key: str, spec: RateSpec, main: bool) -> None:
        self.key = key
        self.spec = spec
        self.main = main
        self.epoch = 0
        # After this worker's last booking: the bucket's state, its shape, and when it was read.
        self.tat = 0
        self.read_at_ms = 0
        self.booked_at = 0.0
        self.shape = Shape(spec.per_second, spec.capacity)

    def booked(self, tat: int, now_ms: int, epoch: int, shape: Shape) -> None:
        self.tat, self.read_at_ms, self.epoch, self.shape = tat, now_ms, epoch, shape
        self.booked_at = time.monotonic()

    def tokens_at_most(self) -> float:
        """An upper bound of the tokens left now: what our booking left, refilled since."""
        refill = (time.monotonic() - self.booked_at) * self.shape.per_second
        return min(self.shape.burst, self.shape.tokens(self.tat, self.read_at_ms) + refill)


_worker_id = ("", 0)


def worker_id() -> str:
    """This process's name in the shared store (a new one after a fork)."""
    global _worker_id
    if _worker_id[1] != os.getpid():
        _worker_id = (uuid.uuid4().hex[:12], os.getpid())
    return _worker_id[0]


class Throttle:
    """Client-side limits for one vendor credential, shared through the configured store."""

    def __init__(
        self,
        key: str,
        rate: RateSpec | None,
        *,
        vendor: str = "",
        daily_quota: int | None = None,
        quota_key: str | None = None,
        endpoint_limits: Sequence[EndpointLimit] = (),
        store_url: str | None = None,
        workers: int = 1,
        safety: float = 0.98,
        headers: RateLimitHeaders | None = None,
        low_water: int = 2,
        log: Callable[[str], None] | None = None,
        warn: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = key
        self.vendor = vendor
        self.rate = rate
        self.safety = safety
        self.workers = max(1, int(workers))
        self.headers = headers or RateLimitHeaders()
        self.low_water = low_water
        self.daily_quota = daily_quota
        self.quota_key = quota_key or key
        self._log = log or (lambda _message: None)
        self._warn = warn or self._log
        self._sleep = sleep
        self._store = ThrottleStore.for_url(store_url, self._warn)
        self._bucket = _Bucket(f"bucket:{key}", rate, main=True) if rate else None
        self._endpoint_limits = list(endpoint_limits)
        self._endpoint_buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._active = 1
        self._waits = 0
        self._waited = 0.0
        self._remaining: int | None = None
        self._scopes: list[str] = []
        self._daily_seen: dict[str, quota.DailyRecord] = {}  # last shared record per scope
        self._daily_pending: dict[str, int] = {}  # counted in memory while the shared store was away
        self._warned: set[tuple[str, float]] = set()
        self._daily_on = bool(daily_quota) or bool(self.headers.daily_remaining)

    # -- limits as this worker applies them ----------------------------------------------------
    def _share(self, context: Context) -> float:
        return 1.0 if context.shared else 1.0 / self.workers

    def _sharing(self, context: Context) -> int:
        """How many workers may have requests in flight on this bucket."""
        return max(self.workers, self._active) if context.shared else self.workers

    def _shape(self, bucket: _Bucket, context: Context) -> Shape:
        share = self._share(context)
        per_second = bucket.spec.per_second * share
        burst = bucket.spec.capacity * share
        # Tokens the server may count early: the requests booked just before ours can arrive
        # after it, by up to the jitter of everyone sharing the bucket.
        spread = bucket.spec.per_second * JITTER_PER_WORKER * self._sharing(context)
        margin = max(burst * (1 - self.safety), spread * share)
        return Shape(per_second * self.safety, max(1, math.floor(burst - margin)))

    # -- proactive -------------------------------------------------------------------------
    def _buckets_for(self, method: str, path: str) -> list[tuple[str, _Bucket]]:
        buckets = [("", self._bucket)] if self._bucket else []
        for limit in self._endpoint_limits:
            if limit.matches(method, path):
                name = limit.bucket_name
                with self._lock:
                    bucket = self._endpoint_buckets.get(name)
                    if bucket is None:
                        bucket = _Bucket(f"bucket:{self.key}:{name}", limit.rate, main=False)
                        self._endpoint_buckets[name] = bucket
                buckets.append((f"{method} {limit.pattern}", bucket))
        return buckets

    def acquire(self, method: str, path: str, quota_scope: str = "") -> float:
        """Block until every limit that applies admits this call; return the seconds waited.

        Raises ``RateLimited`` at once when the day's quota is spent.
        """
        # The strictest (endpoint) buckets first and the main bucket last, so a slot booked in the
        # main bucket is used at once, not after another bucket's wait. The day is counted with
        # the first booking, so a spent quota fails before any wait.
        buckets: list[tuple[str, _Bucket | None]] = list(reversed(self._buckets_for(method, path))) or [("", None)]
        waited = 0.0
        for index, (label, bucket) in enumerate(buckets):
            scope = quota_scope if index == 0 and self._daily_on else None
            wait = self._admit(bucket, scope, method, path)
            if wait > 0 and bucket is not None:
                reason = f"endpoint limit {bucket.spec} on {label}" if label else f"rate limit {bucket.spec}"
                self._wait(wait, reason)
                waited += wait
        return waited

    def _admit(self, bucket: _Bucket | None, scope: str | None, method: str, path: str) -> float:
        if bucket is None and scope is None:
            return 0.0  # no limit at all
        pending = self._daily_pending.get(scope, 0) if scope is not None else 0

        def build(context: Context) -> Admit:
            daily = None if scope is None else self._daily_count(scope, context, pending)
            if bucket is None:
                return Admit(None, daily=daily)
            return Admit(
                bucket.key,
                self._shape(bucket, context),
                # Switched between the shared store and memory: what the other side spent is
                # unknown, so start from an empty bucket instead of a full burst.
                empty_start=context.epoch != bucket.epoch,
                worker=worker_id() if context.shared and bucket.main else "",
                daily=daily,
            )

        result, context = self._store.admit(build)
        if scope is not None:
            self._counted(scope, result, context, method, path)
        if bucket is not None:
            bucket.booked(result.tat, result.now_ms, context.epoch, self._shape(bucket, context))
            if bucket.main and context.shared:
                self._active = result.active
        return result.wait

    def _wait(self, seconds: float, reason: str) -> None:
        if seconds > LOG_WAIT_THRESHOLD:
            self._log(f"Throttling {self.vendor}: waiting {seconds:.2f} s ({reason}).")
        progress.pause(seconds, f"{self.vendor} {reason}", key=self.key)
        self._waits += 1
        self._waited += seconds
        self._sleep(seconds)

    # -- daily quota -----------------------------------------------------------------------
    def report_daily(self, *scopes: str) -> None:
        """Name the vendor's quota scopes (e.g. modes), so the status shows each before its first call."""
        self._scopes.extend(scope for scope in scopes if scope not in self._scopes)

    def _daily_key(self, scope: str) -> str:
        return f"daily:{self.quota_key}:{scope}"

    def _daily_count(self, scope: str, context: Context, pending: int) -> DailyCount:
        key, now = self._daily_key(scope), time.time()
        if scope not in self._scopes:
            self._scopes.append(scope)
        if context.shared:
            return DailyCount(key, self.daily_quota, now, extra=pending)
        # This worker's share of the day, in memory; after a switch away from the shared store,
        # a share of what was left there.
        fresh = None if self.daily_quota is None else self.daily_quota // self.workers
        if self._store.kind == "memory":
            return DailyCount(key, fresh, now)
        return DailyCount(key, fresh, now, restart=self._share_of_day(scope, now), tag=context.epoch)

    def _counted(self, scope: str, result: Admission, context: Context, method: str, path: str) -> None:
        record = result.daily
        assert record is not None
        if context.shared:
            self._daily_pending.pop(scope, None)
        elif result.allowed and self._store.kind != "memory":
            self._daily_pending[scope] = self._daily_pending.get(scope, 0) + 1
        if context.shared or self._whole_day_in_memory:
            self._daily_seen[scope] = record
        if not result.allowed:
            raise self._quota_error(scope, record, method, path, context.shared)
        if record.limit and record.used >= quota.WARN_AT * record.limit and (scope, record.end) not in self._warned:
            self._warned.add((scope, record.end))
            self._warn(
                f"{self.vendor} has used {record.used} of its {record.limit} daily requests"
                f"{quota.scope_label(scope)} ({record.used / record.limit:.0%}); "
                f"the quota resets {quota.describe_reset(record.end)}."
            )

    @property
    def _whole_day_in_memory(self) -> bool:
        """A lone worker without a shared store keeps the whole day's budget in its memory."""
        return self._store.kind == "memory" and self.workers == 1

    def _share_of_day(self, scope: str, now: float) -> quota.DailyRecord:
        """What this worker may spend today while it cannot count in the shared store."""
        seen = self._daily_seen.get(scope)
        if seen is not None and now < seen.end:
            left = None if seen.limit is None else max(0, seen.limit - seen.used)
            end = seen.end
        else:
            left, end = self.daily_quota, quota.day_end(now)
        return quota.DailyRecord(end, 0, None if left is None else left // self.workers)

    def _quota_error(self, scope: str, record: quota.DailyRecord, method: str, path: str, shared: bool) -> RateLimited:
        seconds = max(0.0, record.end - time.time())
        whose = "" if shared or self._store.kind == "memory" else " (this worker's share while the store is away)"
        counted = f"{record.used} of {record.limit} requests counted{whose}"
        return RateLimited(
            f"The daily request quota{quota.scope_label(scope)} is used up; it resets "
            f"{quota.describe_reset(record.end)}; {counted}.",
            vendor=self.vendor,
            method=method,
            path=path,
            retry_after=seconds,
            hint="Spread the work over days, use the read-only replica mode for bulk reads, "
            "or ask the vendor for a higher quota.",
        )

    # -- reactive --------------------------------------------------------------------------
    def observe(self, headers: Mapping[str, str], quota_scope: str = "") -> None:
        """Read the vendor's rate-limit headers from a response."""
        remaining = _int_header(headers, self.headers.remaining)
        if remaining is not None:
            self._remaining = remaining
            if self._bucket is not None:
                self._follow_server(self._bucket, remaining)
        daily = _int_header(headers, self.headers.daily_remaining)
        if daily is not None:
            self._daily_on = True
            self._observe_daily(
                quota_scope,
                daily,
                _int_header(headers, self.headers.daily_limit),
                _float_header(headers, self.headers.daily_reset),
            )

    def _in_flight(self) -> int:
        """Requests the server may not have counted yet: one per worker, booked or on its way."""
        return max(self.low_water, self.workers, self._active if self._store.shared else 0)

    def _follow_server(self, bucket: _Bucket, remaining: int) -> None:
        """Drain the bucket when the server has fewer tokens left than this worker believes."""
        in_flight = self._in_flight()
        if remaining > 2 * in_flight:
            # The bucket's margins keep it below the server's; only a server running low (another
            # client on the credential, a store that lost its state) needs following, and it
            # passes through this zone before it runs out.
            return
        share = 1.0 if self._store.shared else 1.0 / self.workers
        if bucket.tat and bucket.tokens_at_most() <= math.floor((remaining - in_flight) * share):
            return

        def step(states: States, context: Context) -> tuple[dict[str, State], int]:
            shape = self._shape(bucket, context)
            state = dict(states.get(bucket.key) or {})
            in_flight = max(self.low_water, self._sharing(context))
            tokens = math.floor((remaining - in_flight) * self._share(context))
            state["tat"] = drain(int(state.get("tat", 0)), shape, min(tokens, shape.burst), context.now_ms())
            return {bucket.key: state}, state["tat"]

        bucket.tat = self._store.run([bucket.key], step)

    def _observe_daily(self, scope: str, remaining: int, limit: int | None, reset: float | None) -> None:
        key = self._daily_key(scope)
        if scope not in self._scopes:
            self._scopes.append(scope)
        in_flight = self._in_flight()
        seen = self._daily_seen.get(scope)
        if seen is not None and remaining > 0 and time.time() < seen.end and seen.reported:
            same_limit = limit is None or limit == seen.limit
            same_day = reset is None or abs(time.time() + reset - seen.end) <= quota.SAME_WINDOW
            # Other workers' requests reach the server between our count and our answer, and our
            # count runs ahead of the server's by the requests on their way: within that
            # distance the two agree, and the store needs no write.
            if same_limit and same_day and abs((seen.limit or 0) - remaining - seen.used) <= in_flight:
                return

        def step(states: States, context: Context) -> tuple[dict[str, State], quota.DailyRecord | None]:
            record = quota.DailyRecord.load(states.get(key))
            if not (context.shared or self._whole_day_in_memory):
                # The worker's own share: only "nothing left" is news here.
                if remaining > 0 or record is None:
                    return {}, None
                record = quota.DailyRecord(record.end, record.limit or 0, record.limit or 0, True)
                return {key: {**(states.get(key) or {}), **record.dump()}}, None
            updated = quota.observe(
                record,
                self.daily_quota,
                time.time(),
                reported_remaining=remaining,
                reported_limit=limit,
                reset_seconds=reset,
                in_flight=in_flight,
            )
            return ({key: updated.dump()} if updated else {}), updated or record

        record = self._store.run([key], step)
        if record is not None:
            self._daily_seen[scope] = record

    def retry_after(self, headers: Mapping[str, str]) -> float | None:
        return _float_header(headers, self.headers.retry_after)

    # -- status ----------------------------------------------------------------------------
    @property
    def status(self) -> ThrottleStatus:
        """The limits, what this worker waited, and the day's budget across every worker."""
        status = ThrottleStatus(
            rate=str(self.rate) if self.rate else "unlimited",
            burst=self.rate.capacity if self.rate else 0,
            store=self._store.describe(),
            workers=self.workers,
            active_workers=max(1, self._active) if self._store.shared else 1,
            waited_seconds=self._waited,
            waits=self._waits,
            remaining=self._remaining,
        )
        if not self._daily_on:
            return status
        now = time.time()
        for scope in self._scopes or [""]:
            record = self._read_daily(scope)
            if record is None or now >= record.end:
                record = quota.current(None, self.daily_quota, now)
            name = scope or "default"
            status.daily[name] = {
                "used": record.used,
                "limit": record.limit,
                "remaining": record.remaining,
                "reset_seconds": round(record.end - now),
                "resets_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.end)),
            }
            if record.remaining is not None:
                status.daily_remaining[name] = record.remaining
            status.daily_reset_seconds[name] = round(record.end - now)
            status.daily_limit = record.limit if status.daily_limit is None else status.daily_limit
        return status

    def _read_daily(self, scope: str) -> quota.DailyRecord | None:
        key = self._daily_key(scope)

        def step(states: States, context: Context) -> tuple[dict[str, State], quota.DailyRecord | None]:
            return {}, quota.DailyRecord.load(states.get(key))

        return self._store.run([key], step)


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
