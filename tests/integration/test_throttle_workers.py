"""Many worker processes on one credential, against a strict server that is not our sandbox.

Behaviour only (the figures are in bench/scale.py): zero 429s with a shared store, with each
worker's share when there is none, through a Redis outage; one daily budget for all of them.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.redis_server import RedisServer, redis_or_skip
from support.strict_server import StrictServerProcess

RATE, BURST = 150, 200


@pytest.fixture(scope="module")
def strict() -> Iterator[StrictServerProcess]:
    with StrictServerProcess(RATE, BURST) as server:
        yield server


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with redis_or_skip() as server:
        yield server


def fresh_store(kind: str, directory: Path, request: pytest.FixtureRequest) -> str:
    """An empty store of ``kind``: a new SQLite file, or the Redis server started afresh. The Redis fixture is
    asked for only by the Redis case, so the SQLite case runs (and fails) on its own where Redis is missing."""
    if kind == "sqlite":
        return f"sqlite:///{directory}/throttle.db"
    redis_server: RedisServer = request.getfixturevalue("redis_server")
    redis_server.stop()
    redis_server.start()
    return redis_server.url


def _worker(url: str, environment: dict[str, str], count: int, barrier: Any, results: Any) -> None:
    os.environ.update(environment)
    messages: list[str] = []
    from Connectors.core import log

    log.warn = messages.append  # type: ignore[assignment]
    from Connectors import RobawsClient

    client = RobawsClient(url, username="worker", password="worker-password", rate_limit=f"{RATE}/s", burst=BURST)
    client.get("clients", 1001)
    barrier.wait()  # all warmed up: the server is reset
    barrier.wait()
    error = ""
    done = 0
    try:
        for _ in range(count):
            client.get("clients", 1001)
            done += 1
    except Exception as problem:
        error = str(problem)
    results.put((done, error, messages))


def run_workers(
    strict: StrictServerProcess,
    workers: int,
    each: int,
    environment: dict[str, str],
    during: Callable[[], None] | None = None,
) -> list[tuple[int, str, list[str]]]:
    barrier = multiprocessing.Barrier(workers + 1)
    results: multiprocessing.Queue = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=_worker, args=(strict.url, environment, each, barrier, results))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    barrier.wait()
    strict.reset()
    barrier.wait()
    if during:
        during()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(30)
    assert [process.exitcode for process in processes] == [0] * workers
    return outcomes


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_eight_processes_sharing_a_store_get_no_429(
    strict: StrictServerProcess, request: pytest.FixtureRequest, tmp_path: Path, store: str
) -> None:
    url = fresh_store(store, tmp_path, request)
    # 8 x 70 = 560 requests: the burst of 200, then 2.4 s at the server's rate.
    outcomes = run_workers(strict, 8, 70, {"CONNECTORS_THROTTLE_STORE": url, "CONNECTORS_THROTTLE_WORKERS": "8"})
    assert [(done, error) for done, error, _ in outcomes] == [(70, "")] * 8
    stats = strict.stats()
    assert stats["refused"] == 0
    assert stats["served"] == 560


def test_workers_without_a_store_each_take_their_share(strict: StrictServerProcess) -> None:
    outcomes = run_workers(strict, 8, 60, {"CONNECTORS_THROTTLE_STORE": "memory", "CONNECTORS_THROTTLE_WORKERS": "8"})
    assert [(done, error) for done, error, _ in outcomes] == [(60, "")] * 8
    assert strict.stats()["refused"] == 0


def test_every_worker_finishes_through_a_redis_outage(strict: StrictServerProcess, redis_server: RedisServer) -> None:
    redis_server.stop()
    redis_server.start()

    def outage() -> None:
        time.sleep(1.0)
        redis_server.stop()
        time.sleep(2.0)
        redis_server.start()

    environment = {"CONNECTORS_THROTTLE_STORE": redis_server.url, "CONNECTORS_THROTTLE_WORKERS": "6"}
    outcomes = run_workers(strict, 6, 150, environment, during=outage)
    assert [(done, error) for done, error, _ in outcomes] == [(150, "")] * 6
    for _done, _error, messages in outcomes:
        down = [m for m in messages if "is unavailable (" in m]
        back = [m for m in messages if m.endswith("is back; the shared limits apply again.")]
        assert len(down) == 1, messages
        assert "ConnectionError" in down[0] or "TimeoutError" in down[0]
        assert len(back) == 1, messages
    assert strict.stats()["served"] == 900


def _spender(url: str, environment: dict[str, str], barrier: Any, results: Any) -> None:
    os.environ.update(environment)
    from Connectors import RobawsClient
    from Connectors.core.errors import RateLimited

    client = RobawsClient(url, username="spender", password="spender-password", rate_limit="150/s", burst=200)
    barrier.wait()
    done = 0
    try:
        while True:
            client.get("clients", 1001)
            done += 1
    except RateLimited as error:
        results.put((done, str(error)))


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_two_processes_share_one_daily_budget(
    strict: StrictServerProcess, request: pytest.FixtureRequest, tmp_path: Path, store: str
) -> None:
    url = fresh_store(store, tmp_path, request)
    environment = {"CONNECTORS_THROTTLE_STORE": url, "CONNECTORS_THROTTLE_WORKERS": "2", "ROBAWS_DAILY_QUOTA": "120"}
    strict.reset()
    barrier = multiprocessing.Barrier(2)
    results: multiprocessing.Queue = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=_spender, args=(strict.url, environment, barrier, results)) for _ in range(2)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(30)
    assert sum(done for done, _ in outcomes) == 120
    assert strict.stats()["served"] == 120  # never one more than the quota
    for _done, message in outcomes:
        assert "Robaws GET /clients/1001: The daily request quota (live mode) is used up; it resets in " in message
        assert "120 of 120 requests counted" in message
        assert "\n" not in message
