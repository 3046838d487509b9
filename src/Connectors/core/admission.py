"""The one store operation every request makes: count it against the day, then book its slot.

Both happen in one atomic step (``admit``), so a request costs one store transaction - one Lua
call on Redis - and a request refused by the daily quota books nothing. The step is written here
once, as a plain function over the keys' JSON states; the Redis store runs the same step as Lua
(``redis_store.ADMIT_LUA``), and the tests run every backend through the same scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from Connectors.core import quota
from Connectors.core.buckets import Shape, drain, reserve

# A worker that has not booked a slot for this long no longer counts as sharing the bucket.
WORKER_STALE_MS = 15_000
HEARTBEAT_MS = 1_000

State = dict[str, Any]


@dataclass(slots=True)
class DailyCount:
    key: str
    limit: int | None  # the limit of a window that starts now
    now: float  # wall-clock seconds
    extra: int = 0  # requests counted in memory while the shared store was away
    # Memory only: start from ``restart`` unless the stored record carries ``tag`` (a new outage).
    restart: quota.DailyRecord | None = None
    tag: int | None = None


@dataclass(slots=True)
class Admit:
    bucket_key: str | None
    shape: Shape | None = None
    empty_start: bool = False  # the other store spent an unknown amount: start with no tokens
    worker: str = ""  # record this worker as sharing the bucket
    daily: DailyCount | None = None

    def store_keys(self) -> list[str]:
        return [key for key in (self.bucket_key, self.daily.key if self.daily else None) if key]


@dataclass(slots=True)
class Admission:
    allowed: bool  # False: the day's quota is spent and nothing was booked
    wait: float = 0.0  # seconds until the booked slot
    tat: int = 0  # the bucket's state after the booking
    now_ms: int = 0
    active: int = 1  # workers seen booking in the last WORKER_STALE_MS
    daily: quota.DailyRecord | None = None


def admit(states: dict[str, State | None], request: Admit, now_ms: int) -> tuple[dict[str, State], Admission]:
    changes: dict[str, State] = {}
    record = None
    if request.daily is not None:
        count = request.daily
        stored = states.get(count.key)
        record = quota.DailyRecord.load(stored)
        if count.restart is not None and (record is None or (stored or {}).get("tag") != count.tag):
            record = count.restart
        record, allowed = quota.take(record, count.limit, count.now, extra=count.extra)
        changes[count.key] = record.dump() if count.tag is None else {**record.dump(), "tag": count.tag}
        if not allowed:
            return changes, Admission(False, now_ms=now_ms, daily=record)
    if request.bucket_key is None or request.shape is None:
        return changes, Admission(True, now_ms=now_ms, daily=record)
    state = dict(states.get(request.bucket_key) or {})
    tat = int(state.get("tat", 0))
    if request.empty_start:
        tat = drain(tat, request.shape, 0, now_ms)
    tat, wait = reserve(tat, request.shape, now_ms)
    state["tat"] = tat
    active = heartbeat(state, request.worker, now_ms) if request.worker else 1
    changes[request.bucket_key] = state
    return changes, Admission(True, wait, tat, now_ms, active, record)


def heartbeat(state: State, worker: str, now_ms: int) -> int:
    """Record ``worker`` in the bucket's state (at most once a second); return how many use it."""
    seen: dict[str, int] = {name: int(at) for name, at in (state.get("w") or {}).items()}
    if now_ms - seen.get(worker, 0) >= HEARTBEAT_MS:
        seen[worker] = now_ms
        seen = {name: at for name, at in seen.items() if at >= now_ms - WORKER_STALE_MS}
    state["w"] = seen
    return max(1, len(seen))
