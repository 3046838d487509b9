"""The daily quota: one count per tenant and mode, fail at once when spent, the vendor's count wins."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from Connectors.core import quota
from Connectors.core.config import RateSpec
from Connectors.core.errors import RateLimited
from Connectors.core.quota import DailyRecord
from Connectors.core.throttle import RateLimitHeaders, Throttle

NOW = 1_800_000_000.0  # 2027-01-15 08:00 UTC
MIDNIGHT = 1_800_057_600.0
HEADERS = RateLimitHeaders(
    remaining="X-Remaining",
    daily_remaining="X-Daily-Remaining",
    daily_limit="X-Daily-Limit",
    daily_reset="X-Daily-Reset",
)


def test_a_window_ends_at_midnight_utc() -> None:
    assert quota.day_end(NOW) == MIDNIGHT
    assert quota.day_end(MIDNIGHT) == MIDNIGHT + 86_400


def test_take_counts_up_to_the_limit_and_never_past_it() -> None:
    record = None
    admitted = 0
    for _ in range(12):
        record, allowed = quota.take(record, 10, NOW)
        admitted += allowed
    assert admitted == 10
    assert record is not None and record.used == 10 and record.spent


def test_a_new_day_starts_from_zero() -> None:
    record, _ = quota.take(DailyRecord(MIDNIGHT, 10, 10), 10, MIDNIGHT + 1)
    assert record.used == 1 and record.end == MIDNIGHT + 86_400


def test_requests_counted_during_an_outage_are_added() -> None:
    record, allowed = quota.take(DailyRecord(MIDNIGHT, 5, 10), 10, NOW, extra=5)
    assert not allowed and record.used == 10


def test_the_vendors_limit_and_count_take_precedence() -> None:
    record = DailyRecord(MIDNIGHT, 100, 10_000)
    # Another integration on the tenant used 4,000 more than we counted; the tenant has 20,000.
    seen = quota.observe(record, 10_000, NOW, reported_remaining=15_900, reported_limit=20_000, reset_seconds=3600)
    assert seen is not None
    assert (seen.used, seen.limit, seen.end, seen.reported) == (4_100, 20_000, NOW + 3600, True)
    # We count a little more than the vendor (requests still on their way): ours stays.
    again = quota.observe(
        seen, 10_000, NOW + 1, reported_remaining=15_910, reported_limit=20_000, reset_seconds=3599, in_flight=16
    )
    assert again is None
    # Far less: the vendor did not count some of ours (refused ones), or reset its counter.
    reset = quota.observe(
        seen, 10_000, NOW + 2, reported_remaining=19_000, reported_limit=20_000, reset_seconds=3598, in_flight=16
    )
    assert reset is not None and reset.used == 1_000


def test_an_answer_from_before_the_vendors_reset_is_ignored() -> None:
    fresh = DailyRecord(NOW + 86_400, 3, 100, reported=True)
    late = quota.observe(fresh, 100, NOW, reported_remaining=0, reported_limit=100, reset_seconds=10)
    assert late is None


def test_the_vendors_new_day_replaces_the_count() -> None:
    old = DailyRecord(NOW + 10, 100, 100, reported=True)
    new = quota.observe(old, 100, NOW + 11, reported_remaining=99, reported_limit=100, reset_seconds=86_400)
    assert new is not None and new.used == 1


def test_remaining_without_a_limit_sets_the_limit() -> None:
    record = quota.observe(None, None, NOW, reported_remaining=42, reported_limit=None, reset_seconds=None)
    assert record is not None and record.remaining == 42 and record.end == MIDNIGHT


@given(
    used=st.integers(0, 200),
    limit=st.integers(1, 200),
    remaining=st.integers(0, 300),
    reported_limit=st.one_of(st.none(), st.integers(1, 300)),
    in_flight=st.integers(0, 16),
)
def test_the_count_follows_the_vendor_and_only_rises_within_the_requests_in_flight(
    used: int, limit: int, remaining: int, reported_limit: int | None, in_flight: int
) -> None:
    record = DailyRecord(MIDNIGHT, used, limit, reported=True)
    seen = quota.observe(
        record,
        limit,
        NOW,
        reported_remaining=remaining,
        reported_limit=reported_limit,
        reset_seconds=MIDNIGHT - NOW,
        in_flight=in_flight,
    )
    after = seen or record
    vendors = (reported_limit if reported_limit is not None else limit) - remaining
    assert after.used == (vendors if vendors < used - in_flight else max(used, vendors))
    assert after.remaining == max(0, (after.limit or 0) - after.used)
    if remaining == 0:
        assert after.spent


def test_client_side_quota_fails_at_once_naming_the_mode_and_the_reset() -> None:
    sleeps: list[float] = []
    throttle = Throttle("q-fail", RateSpec(1000, 1), vendor="Vendor", daily_quota=3, sleep=sleeps.append)
    for _ in range(3):
        throttle.acquire("GET", "/x", "live")
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        throttle.acquire("GET", "/x", "live")
    assert time.monotonic() - started < 5  # (not a timing claim: a crawl would take 8.64 s a call)
    text = str(caught.value)
    assert "daily request quota (live mode) is used up; it resets in" in text
    assert " UTC)" in text and "3 of 3 requests counted" in text
    assert "\n" not in text
    assert caught.value.retry_after and caught.value.retry_after > 0
    throttle.acquire("GET", "/x", "replica")  # the other mode has its own quota


def test_quota_none_counts_but_never_refuses() -> None:
    throttle = Throttle("q-none", RateSpec(1000, 1), daily_quota=None, headers=HEADERS)
    for _ in range(50):
        throttle.acquire("GET", "/x", "live")
    assert throttle.status.daily["live"]["used"] == 50
    assert throttle.status.daily["live"]["limit"] is None


def test_a_warning_at_80_percent_once() -> None:
    warnings: list[str] = []
    throttle = Throttle("q-warn", RateSpec(1000, 1), vendor="Vendor", daily_quota=10, warn=warnings.append)
    for _ in range(7):
        throttle.acquire("GET", "/x", "live")
    assert warnings == []
    for _ in range(3):
        throttle.acquire("GET", "/x", "live")
    assert len(warnings) == 1
    assert warnings[0].startswith("Vendor has used 8 of its 10 daily requests (live mode) (80%); the quota resets in")


def test_the_servers_daily_headers_take_precedence() -> None:
    throttle = Throttle("q-server", RateSpec(1000, 1), vendor="Vendor", daily_quota=10, headers=HEADERS)
    throttle.acquire("GET", "/x", "live")
    # The tenant's quota is higher than the client's default, and others used some of it.
    throttle.observe({"X-Daily-Remaining": "15", "X-Daily-Limit": "20", "X-Daily-Reset": "600"}, "live")
    day = throttle.status.daily["live"]
    assert (day["used"], day["limit"], day["remaining"]) == (5, 20, 15)
    assert 590 <= day["reset_seconds"] <= 600
    for _ in range(15):
        throttle.acquire("GET", "/x", "live")
    with pytest.raises(RateLimited, match="20 of 20 requests counted"):
        throttle.acquire("GET", "/x", "live")


def test_status_reports_the_day_per_mode() -> None:
    throttle = Throttle("q-status", RateSpec(1000, 1), daily_quota=100)
    throttle.report_daily("live", "replica")
    throttle.acquire("GET", "/x", "replica")
    status = throttle.status.as_dict()
    assert status["daily"]["replica"]["used"] == 1 and status["daily"]["live"]["used"] == 0
    assert status["daily_remaining"] == {"live": 100, "replica": 99}
    assert status["daily_limit"] == 100
    assert status["daily"]["live"]["resets_at"].endswith("T00:00:00Z")


def test_the_quota_belongs_to_the_tenant_not_the_credential() -> None:
    alice = Throttle("tenant-x:alice", RateSpec(1000, 1), daily_quota=4, quota_key="tenant-x")
    bob = Throttle("tenant-x:bob", RateSpec(1000, 1), daily_quota=4, quota_key="tenant-x")
    alice.acquire("GET", "/x", "live")
    alice.acquire("GET", "/x", "live")
    bob.acquire("GET", "/x", "live")
    bob.acquire("GET", "/x", "live")
    with pytest.raises(RateLimited):
        alice.acquire("GET", "/x", "live")


def test_each_of_n_workers_without_a_store_takes_its_share_of_the_day() -> None:
    throttle = Throttle("q-share", RateSpec(1000, 1), daily_quota=100, workers=4)
    for _ in range(25):
        throttle.acquire("GET", "/x")
    with pytest.raises(RateLimited, match="25 of 25"):
        throttle.acquire("GET", "/x")
