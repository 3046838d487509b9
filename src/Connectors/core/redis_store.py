"""Throttle state in Redis, shared by workers on many machines (Control Room workers, cloud runs).

The call every request makes (``admit``: count it against the day, book its slot) runs as one Lua
script: atomic, one round trip. It mirrors ``admission.admit`` line for line, and the tests run both
through the same scenarios. Optimistic WATCH/MULTI transactions were measured first: with 16
processes on two cores a worker descheduled between WATCH and EXEC makes everyone else retry, and a
transaction took 75 ms on average. The rare calls (the server's counts, draining the bucket,
status) still run the Python step in a WATCH/MULTI transaction.

Workers on different machines have different clocks; the bucket state is kept in Redis' own time
(the offset to its ``TIME`` is measured once and refreshed), so a worker whose clock is off by 50 ms
does not spend someone else's tokens.

Short socket timeouts (unless the URL sets its own) make an unreachable Redis a quick fallback to
the worker's share instead of a hung robot; ``redis`` is imported only when this store is chosen.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlparse

from Connectors.core import admission, quota
from Connectors.core.admission import Admission, Admit
from Connectors.core.errors import ConfigurationError
from Connectors.core.redact import redactor
from Connectors.core.stores import STATE_TTL_SECONDS, Backend, State, Step, StoreUnavailable, T

KEY_PREFIX = "connectors:throttle:"
CONNECT_TIMEOUT_SECONDS = 0.5
SOCKET_TIMEOUT_SECONDS = 2.0
CLOCK_REFRESH_SECONDS = 300.0
MAX_CONFLICTS = 200

# admission.admit as Lua. KEYS: the bucket key (if ARGV[2] == '1'), then the daily key (if ARGV[9] == '1').
# ARGV: now_ms, has_bucket, emission_us, burst, empty_start, worker, ttl_seconds, stale_ms, has_daily,
#       day_now, new_window_end, new_window_limit ('' = none), extra, heartbeat_ms.
ADMIT_LUA = """
local now_ms = tonumber(ARGV[1])
local ttl = tonumber(ARGV[7])
local index = 1
local bucket_key, daily_key
if ARGV[2] == '1' then bucket_key = KEYS[index]; index = index + 1 end
if ARGV[9] == '1' then daily_key = KEYS[index] end
local daily_json = false
if daily_key then
  local raw = redis.call('GET', daily_key)
  local record = raw and cjson.decode(raw) or nil
  if record == nil or tonumber(ARGV[10]) >= tonumber(record['end']) then
    local limit = cjson.null
    if ARGV[12] ~= '' then limit = tonumber(ARGV[12]) end
    record = {['end'] = tonumber(ARGV[11]), used = 0, limit = limit, rep = false}
  end
  record.used = tonumber(record.used) + tonumber(ARGV[13])
  local spent = record.limit ~= cjson.null and record.used >= tonumber(record.limit)
  if not spent then record.used = record.used + 1 end
  daily_json = cjson.encode(record)
  redis.call('SET', daily_key, daily_json, 'EX', ttl)
  if spent then return {0, 0, '0', 1, daily_json} end
end
if not bucket_key then return {1, 0, '0', 1, daily_json} end
local now_us = now_ms * 1000
local emission = tonumber(ARGV[3])
local burst = tonumber(ARGV[4])
local raw = redis.call('GET', bucket_key)
local state = raw and cjson.decode(raw) or {}
local tat = tonumber(state.tat or 0)
if ARGV[5] == '1' then tat = math.max(tat, now_us + burst * emission) end
local new_tat = math.max(tat, now_us) + emission
local wait = math.max(0, new_tat - burst * emission - now_us)
state.tat = string.format('%.0f', new_tat)
local active = 1
if ARGV[6] ~= '' then
  local seen = state.w or {}
  if now_ms - tonumber(seen[ARGV[6]] or 0) >= tonumber(ARGV[14]) then
    seen[ARGV[6]] = now_ms
    local fresh = {}
    for name, at in pairs(seen) do
      if tonumber(at) >= now_ms - tonumber(ARGV[8]) then fresh[name] = tonumber(at) end
    end
    seen = fresh
  end
  state.w = seen
  active = 0
  for _ in pairs(seen) do active = active + 1 end
  if active < 1 then active = 1 end
end
redis.call('SET', bucket_key, cjson.encode(state), 'EX', ttl)
return {1, wait, state.tat, active, daily_json}
"""


class RedisBackend(Backend):
    kind = "redis"
    shared = True

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError:
            raise ConfigurationError(
                "The Redis throttle store needs the 'redis' package.",
                hint="pip install 'robotframework-connectors[redis]'",
            )
        password = urlparse(url).password
        if password:
            redactor.register(password)
        given = set(parse_qs(urlparse(url).query))
        options: dict[str, Any] = {}
        if "socket_connect_timeout" not in given:
            options["socket_connect_timeout"] = CONNECT_TIMEOUT_SECONDS
        if "socket_timeout" not in given:
            options["socket_timeout"] = SOCKET_TIMEOUT_SECONDS
        self._redis = redis
        self.client = redis.Redis.from_url(url, **options)
        self._offset_ms = 0
        self._clock_checked = -CLOCK_REFRESH_SECONDS
        self._clock_lock = threading.Lock()
        self._admit = self.client.register_script(ADMIT_LUA)

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self._offset_ms

    def _sync_clock(self) -> None:
        if time.monotonic() - self._clock_checked < CLOCK_REFRESH_SECONDS:
            return
        with self._clock_lock:
            before = time.time_ns()
            seconds, micros = self.client.time()
            after = time.time_ns()
            server_ms = int(seconds) * 1000 + int(micros) // 1000
            self._offset_ms = server_ms - (before + after) // 2_000_000
            self._clock_checked = time.monotonic()

    def transact(self, keys: Sequence[str], step: Step[T]) -> T:
        names = [KEY_PREFIX + key for key in keys]
        try:
            self._sync_clock()
            with self.client.pipeline() as pipe:
                for _ in range(MAX_CONFLICTS):
                    try:
                        pipe.watch(*names)
                        values = pipe.mget(names)
                        states: dict[str, State | None] = {
                            key: json.loads(value) if value else None for key, value in zip(keys, values, strict=True)
                        }
                        changes, result = step(states)
                        if not changes:
                            pipe.unwatch()
                            return result
                        pipe.multi()
                        for key, state in changes.items():
                            pipe.set(KEY_PREFIX + key, json.dumps(state, separators=(",", ":")), ex=STATE_TTL_SECONDS)
                        pipe.execute()
                        return result
                    except self._redis.WatchError:
                        continue
        except self._redis.RedisError as error:
            raise StoreUnavailable(f"{type(error).__name__}: {error}") from error
        raise StoreUnavailable(f"{MAX_CONFLICTS} conflicting writers in a row")

    def admit(self, request: Admit) -> Admission:
        daily = request.daily
        if daily is not None and daily.restart is not None:
            return super().admit(request)  # a worker's own share is never kept here
        has_bucket = request.bucket_key is not None and request.shape is not None
        shape = request.shape
        args: list[Any] = [
            0,
            int(has_bucket),
            shape.emission_us if shape else 0,
            shape.burst if shape else 0,
            int(request.empty_start),
            request.worker,
            STATE_TTL_SECONDS,
            admission.WORKER_STALE_MS,
            int(daily is not None),
            daily.now if daily else 0,
            quota.day_end(daily.now) if daily else 0,
            "" if daily is None or daily.limit is None else daily.limit,
            daily.extra if daily else 0,
            admission.HEARTBEAT_MS,
        ]
        keys = [KEY_PREFIX + key for key in request.store_keys()]
        try:
            self._sync_clock()
            args[0] = now = self.now_ms()
            allowed, wait_us, tat, active, daily_json = self._admit(keys=keys, args=args)
        except self._redis.RedisError as error:
            raise StoreUnavailable(f"{type(error).__name__}: {error}") from error
        record = quota.DailyRecord.load(json.loads(daily_json)) if daily_json else None
        return Admission(bool(allowed), int(wait_us) / 1_000_000, int(tat), now, int(active), record)

    def close(self) -> None:
        self.client.close()
