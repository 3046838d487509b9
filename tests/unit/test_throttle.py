"""The token bucket keeps a lone client under the vendor's limit, in every store."""

from __future__ import annotations

import multiprocessing
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from Connectors.core.config import RateSpec
from Connectors.core.errors import ConfigurationError, RateLimited
from Connectors.core.throttle import EndpointLimit, RateLimitHeaders, Throttle


class FakeClock:
    """Records sleeps instead of sleeping (the bucket itself uses real time)."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        time.sleep(seconds)


def served_times(throttle: Throttle, count: int) -> list[float]:
    times = []
    for _ in range(count):
        throttle.acquire("GET", "/x")
        times.append(time.monotonic())
    return times


def max_in_window(times: list[float], window: float) -> int:
    best = 0
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_rate_spec_parsing() -> None:
    assert RateSpec.parse("15/s").per_second == 15
    assert RateSpec.parse("60/min").per_second == 1
    assert RateSpec.parse("6 per minute").per_second == pytest.approx(0.1)
    assert RateSpec.parse("100/10s").per_second == 10
    assert RateSpec.parse("15/s", 20).capacity == 20
    with pytest.raises(ConfigurationError, match="Invalid rate limit 'fast'"):
        RateSpec.parse("fast")


def test_burst_then_steady_rate_stays_under_the_limit() -> None:
    throttle = Throttle("t-burst", RateSpec(100, 1, burst=20))
    times = served_times(throttle, 80)
    # Never more than the burst at once, and within any second at most burst + rate.
    assert max_in_window(times, 0.01) <= 20
    assert max_in_window(times, 1.0) <= 20 + 100
    elapsed = times[-1] - times[0]
    # 60 tokens beyond the burst at 98/s (the safety margin) take about 0.6 s.
    assert elapsed >= 0.55  # (an upper bound would only measure the machine)


def test_endpoint_limit_applies_only_to_matching_calls() -> None:
    sleeps = FakeClock()
    throttle = Throttle(
        "t-endpoint",
        RateSpec(1000, 1),
        sleep=sleeps,
        endpoint_limits=[EndpointLimit(r"/memberships$", RateSpec(5, 1, burst=1), method="GET")],
    )
    for _ in range(5):
        throttle.acquire("GET", "/api/resources")
    assert sum(sleeps.sleeps) < 0.05
    for _ in range(3):
        throttle.acquire("GET", "/api/memberships")
    # burst 1 at ~4.9/s: two waits of ~0.2 s
    assert sum(sleeps.sleeps) == pytest.approx(0.41, abs=0.08)


def test_low_remaining_header_pauses_before_the_server_refuses() -> None:
    sleeps = FakeClock()
    throttle = Throttle(
        "t-reactive",
        RateSpec(10, 1, burst=10),
        sleep=sleeps,
        headers=RateLimitHeaders(remaining="X-RateLimit-Remaining"),
    )
    throttle.observe({"X-RateLimit-Remaining": "0"})
    throttle.acquire("GET", "/x")
    # (low water 2 + 1 - 0) tokens at 10/s
    assert sleeps.sleeps and sleeps.sleeps[0] == pytest.approx(0.3, abs=0.05)


def test_exhausted_daily_quota_fails_fast_with_reset_time() -> None:
    throttle = Throttle(
        "t-daily",
        RateSpec(10, 1),
        vendor="Vendor",
        headers=RateLimitHeaders(daily_remaining="D-Remaining", daily_reset="D-Reset"),
    )
    throttle.observe({"D-Remaining": "0", "D-Reset": "3600"}, "live")
    with pytest.raises(RateLimited, match=r"daily request quota \(live mode\) is used up; it resets in 3600 s"):
        throttle.acquire("GET", "/x", "live")
    throttle.acquire("GET", "/x", "replica")  # another mode has its own quota


def test_client_side_daily_quota() -> None:
    throttle = Throttle("t-daily-client", RateSpec(1000, 1), daily_quota=3)
    for _ in range(3):
        throttle.acquire("GET", "/x")
    with pytest.raises(
        RateLimited, match=r"daily request quota is used up; it resets in \d+ s \(at .* UTC\); 3 of 3 requests counted"
    ):
        throttle.acquire("GET", "/x")


def test_unknown_store_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="Unknown throttle store 'mongodb://x'"):
        Throttle("t-bad", RateSpec(1, 1), store_url="mongodb://x")


def _worker(store_url: str, count: int, queue: multiprocessing.Queue) -> None:
    throttle = Throttle("shared-key", RateSpec(50, 1, burst=10), store_url=store_url)
    stamps = []
    for _ in range(count):
        throttle.acquire("GET", "/x")
        stamps.append(time.time())
    queue.put(stamps)


def run_processes(store_url: str, processes: int = 4, each: int = 20) -> list[float]:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_worker, args=(store_url, each, queue)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    stamps = sorted(t for _ in workers for t in queue.get(timeout=60))
    for worker in workers:
        worker.join(10)
    return stamps


def test_sqlite_store_is_shared_between_processes(tmp_path: Path) -> None:
    stamps = run_processes(f"sqlite:///{tmp_path}/bucket.db")
    elapsed = stamps[-1] - stamps[0]
    # 80 calls, burst 10, 49/s: at least 70/49 ≈ 1.43 s if the bucket is truly shared
    # (four private buckets would finish in about 0.2 s).
    assert elapsed >= 1.3
    assert max_in_window(stamps, 0.5) <= 10 + 25 + 1


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    server = shutil.which("redis-server")
    if not server:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    from connectors_sandbox.server import free_port

    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--dir", str(directory)], stdout=subprocess.DEVNULL
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(50):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


def test_redis_store_is_shared_between_processes(redis_url: str) -> None:
    stamps = run_processes(redis_url)
    assert stamps[-1] - stamps[0] >= 1.3


def test_each_of_n_workers_without_a_store_takes_its_share() -> None:
    sleeps = FakeClock()
    alone = Throttle("share-1", RateSpec(100, 1, burst=20), sleep=sleeps)
    for _ in range(18):
        alone.acquire("GET", "/x")
    assert sleeps.sleeps == []  # a burst of 20 less the safety margin goes at once
    shared = Throttle("share-4", RateSpec(100, 1, burst=20), workers=4, sleep=sleeps)
    for _ in range(6):
        shared.acquire("GET", "/x")
    # A quarter of the burst (5, less the margin: 4) at once, then a quarter of the rate.
    assert len(sleeps.sleeps) == 2
    assert sleeps.sleeps[0] == pytest.approx(1 / (25 * 0.98), abs=0.005)
    assert shared.status.workers == 4


def test_workers_come_from_the_argument_or_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from Connectors import RobawsClient

    monkeypatch.setenv("CONNECTORS_THROTTLE_WORKERS", "6")
    assert RobawsClient("http://127.0.0.1:9", username="u", password="p-workers").throttle.workers == 6
    assert RobawsClient("http://127.0.0.1:9", username="u", password="p-workers", workers=3).throttle.workers == 3
    monkeypatch.setenv("CONNECTORS_THROTTLE_WORKERS", "many")
    with pytest.raises(
        ConfigurationError, match=r"Invalid number of throttle workers 'many'.*CONNECTORS_THROTTLE_WORKERS"
    ):
        RobawsClient("http://127.0.0.1:9", username="u", password="p-workers")


def test_a_server_running_low_pauses_every_worker_of_the_store(tmp_path: Path) -> None:
    """One worker reads X-RateLimit-Remaining: 0; the other, in another client, waits too."""
    url = f"sqlite:///{tmp_path}/drain.db"
    headers = RateLimitHeaders(remaining="X-RateLimit-Remaining")
    reader = Throttle("drained", RateSpec(10, 1, burst=10), store_url=url, headers=headers, workers=2)
    sleeps = FakeClock()
    other = Throttle("drained", RateSpec(10, 1, burst=10), store_url=url, headers=headers, workers=2, sleep=sleeps)
    reader.acquire("GET", "/x")
    reader.observe({"X-RateLimit-Remaining": "0"})
    other.acquire("GET", "/x")
    # At most remaining - in flight (0 - 2) tokens: the next slot is 3 tokens away at ~9.8/s.
    assert sleeps.sleeps and sleeps.sleeps[0] == pytest.approx(3 / 9.8, abs=0.03)
