"""Daily request quotas: one counter per tenant and mode for the day, whoever spends it.

A record holds the end of the current window, the requests counted in it and the limit. It lives
in the throttle store, so every worker of a tenant counts against the same day. The client counts
each request before sending it and refuses the one that would cross the limit; when the vendor
reports its own count (``X-RateLimit-Daily-*``), the vendor's limit, remaining count and reset time
take precedence - it also sees requests from other integrations.

Windows end at midnight UTC until the vendor says otherwise.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

# A reported reset this close to the window's end belongs to the same window (seconds).
SAME_WINDOW = 60.0
WARN_AT = 0.8


@dataclass
class DailyRecord:
    end: float  # wall-clock seconds at which the window resets
    used: int
    limit: int | None  # None: no limit known, only counted
    reported: bool = False  # end and limit come from the vendor's headers

    @classmethod
    def load(cls, state: dict[str, Any] | None) -> DailyRecord | None:
        if not state:
            return None
        limit = state.get("limit")
        return cls(
            float(state["end"]), int(state["used"]), None if limit is None else int(limit), bool(state.get("rep"))
        )

    def dump(self) -> dict[str, Any]:
        return {"end": self.end, "used": self.used, "limit": self.limit, "rep": self.reported}

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    @property
    def spent(self) -> bool:
        return self.limit is not None and self.used >= self.limit


def day_end(now: float) -> float:
    """The next midnight UTC after ``now``."""
    return (math.floor(now / 86_400) + 1) * 86_400.0


def current(record: DailyRecord | None, limit: int | None, now: float) -> DailyRecord:
    """The record for the window ``now`` falls in (a fresh one once the old window has ended)."""
    if record is None or now >= record.end:
        return DailyRecord(day_end(now), 0, limit)
    return record


def take(record: DailyRecord | None, limit: int | None, now: float, extra: int = 0) -> tuple[DailyRecord, bool]:
    """Count one request (plus ``extra`` counted elsewhere) unless the limit is reached."""
    record = current(record, limit, now)
    record = DailyRecord(record.end, record.used + extra, record.limit, record.reported)
    if record.spent:
        return record, False
    record.used += 1
    return record, True


def observe(
    record: DailyRecord | None,
    limit: int | None,
    now: float,
    *,
    reported_remaining: int,
    reported_limit: int | None,
    reset_seconds: float | None,
    in_flight: int = 0,
) -> DailyRecord | None:
    """The record after the vendor reported its count, or None when it changes nothing.

    Our count runs ahead of the vendor's by the requests still on their way (``in_flight``), and
    answers from several workers arrive out of order: within that distance the higher count
    stands. Further below ours, the vendor's count is the truth (it did not count requests it
    refused, or its counter was reset).
    """
    record = current(record, limit, now)
    end = record.end if reset_seconds is None else float(round(now + max(0.0, reset_seconds)))
    if record.reported and end < record.end - SAME_WINDOW:
        return None  # an answer from before the vendor's reset, overtaken by a later one
    new_limit = reported_limit if reported_limit is not None else record.limit
    if new_limit is None:
        # No limit known on either side: the remaining count alone says where the day stands.
        new_limit = record.used + reported_remaining
    used_by_vendor = new_limit - reported_remaining
    # Once the vendor's window has moved on, its count starts the new day.
    new_day = record.reported and end > record.end + SAME_WINDOW
    behind = used_by_vendor < record.used - in_flight
    used = used_by_vendor if new_day or behind else max(record.used, used_by_vendor)
    updated = DailyRecord(end if reset_seconds is not None else record.end, used, new_limit, True)
    unchanged = (updated.used, updated.limit) == (record.used, record.limit) and record.reported
    return None if unchanged and abs(updated.end - record.end) <= SAME_WINDOW else updated


def describe_reset(end: float, now: float | None = None) -> str:
    """``in 5400 s (at 2026-05-02 00:00 UTC)``."""
    now = time.time() if now is None else now
    moment = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(end))
    return f"in {max(0, round(end - now))} s (at {moment})"


def scope_label(scope: str) -> str:
    return f" ({scope} mode)" if scope else ""
