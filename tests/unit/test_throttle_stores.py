"""The throttle stores: one behaviour in memory, SQLite and Redis, and a failing store never fails a call."""

from __future__ import annotations

import itertools
import multiprocessing
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from Connectors.core import sqlite_store, stores
from Connectors.core.admission import Admit, DailyCount
from Connectors.core.buckets import Shape
from Connectors.core.config import RateSpec
from Connectors.core.redis_store import RedisBackend
from Connectors.core.sqlite_store import SQLiteBackend
from Connectors.core.stores import Backend, MemoryBackend
from Connectors.core.throttle import Throttle
from support.redis_server import RedisServer, redis_or_skip

_names = itertools.count()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with redis_or_skip() as server:
        yield server


@pytest.fixture(scope="module")
def sqlite_backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    return SQLiteBackend(tmp_path_factory.mktemp("stores") / "state.db")


@pytest.fixture(scope="module")
def redis_backend(redis_server: RedisServer) -> Backend:
    return RedisBackend(redis_server.url)


operation = st.fixed_dictionaries(
    {
        # Edges: the heartbeat (1 s), a worker going stale (15 s), a new day.
        "advance_ms": st.one_of(
            st.integers(0, 3000), st.sampled_from([0, 1, 999, 1000, 1001, 15_000, 15_001, 86_400_000])
        ),
        "per_second": st.sampled_from([0.1, 1.0, 6.5, 15.0, 150.0]),
        "burst": st.integers(1, 25),
        "empty_start": st.booleans(),
        "worker": st.sampled_from(["", "w1", "w2", "w3"]),
        "bucket": st.booleans(),
        "daily": st.booleans(),
        "limit": st.one_of(st.none(), st.integers(0, 6)),
        "extra": st.integers(0, 3),
    }
)


def _apply(backend: Backend, name: str, operations: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    clock = {"ms": 1_800_000_000_000}
    backend.now_ms = lambda: clock["ms"]  # type: ignore[method-assign]
    outcomes = []
    for op in operations:
        clock["ms"] += op["advance_ms"]
        daily = DailyCount(f"d:{name}", op["limit"], clock["ms"] / 1000, op["extra"]) if op["daily"] else None
        request = Admit(
            f"b:{name}" if op["bucket"] or not daily else None,
            Shape(op["per_second"], op["burst"]),
            empty_start=op["empty_start"],
            worker=op["worker"],
            daily=daily,
        )
        result = backend.admit(request)
        record = result.daily.dump() if result.daily else None
        outcomes.append(
            (result.allowed, result.wait, result.tat, result.now_ms, result.active, record, _stored(backend, name))
        )
    return outcomes


def _stored(backend: Backend, name: str) -> dict[str, Any] | None:
    """The bucket's state as stored (Lua keeps the large integers as strings)."""
    state = backend.transact([f"b:{name}"], lambda states: ({}, states[f"b:{name}"]))
    if state is None:
        return None
    return {"tat": int(state["tat"]), "w": {worker: int(at) for worker, at in (state.get("w") or {}).items()}}


# One property per stored backend against the in-memory step, so that the SQLite one runs (and fails) on its own
# where Redis is missing: a shared fixture would skip both.
_alike = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_alike
@given(operations=st.lists(operation, min_size=1, max_size=12))
def test_the_sqlite_backend_admits_exactly_like_memory(
    sqlite_backend: Backend, operations: list[dict[str, Any]]
) -> None:
    name = f"eq-{next(_names)}"
    assert _apply(sqlite_backend, name, operations) == _apply(MemoryBackend(), name, operations)


@_alike
@given(operations=st.lists(operation, min_size=1, max_size=12))
def test_the_redis_backend_admits_exactly_like_memory(redis_backend: Backend, operations: list[dict[str, Any]]) -> None:
    """The Redis store runs the admission step as Lua: it must match the Python step to the microsecond."""
    name = f"eq-{next(_names)}"
    assert _apply(redis_backend, name, operations) == _apply(MemoryBackend(), name, operations)


def test_a_booked_slot_waits_for_its_turn() -> None:
    backend = MemoryBackend()
    now = 1_000_000
    backend.now_ms = lambda: now  # type: ignore[method-assign]
    shape = Shape(10, 2)
    waits = [backend.admit(Admit("slots", shape)).wait for _ in range(5)]
    assert waits == [0.0, 0.0, 0.1, 0.2, 0.3]


# -- SQLite ------------------------------------------------------------------------------------------------
def _open_and_take(url: str, barrier: Any, problems: Any) -> None:
    messages: list[str] = []
    throttle = Throttle("cold-start", RateSpec(1000, 1, burst=100), store_url=url, log=messages.append)
    barrier.wait()
    for _ in range(5):
        throttle.acquire("GET", "/x")
    problems.put(messages)


@pytest.mark.parametrize("round_", range(4))
def test_many_processes_open_a_new_sqlite_file_at_once(tmp_path: Path, round_: int) -> None:
    url = f"sqlite:///{tmp_path}/fresh-{round_}.db"
    count = 12
    barrier = multiprocessing.Barrier(count)
    problems: multiprocessing.Queue = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=_open_and_take, args=(url, barrier, problems)) for _ in range(count)]
    for process in processes:
        process.start()
    messages = [problems.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(30)
    assert [process.exitcode for process in processes] == [0] * count
    assert messages == [[]] * count  # none had to fall back to its share
    with sqlite3.connect(tmp_path / f"fresh-{round_}.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_locked_sqlite_file_falls_back_and_comes_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_SECONDS", 0.1)
    monkeypatch.setattr(stores, "RETRY_FIRST", 0.2)
    path = tmp_path / "locked.db"
    messages: list[str] = []
    throttle = Throttle("locked", RateSpec(1000, 1, burst=50), store_url=f"sqlite:///{path}", warn=messages.append)
    throttle.acquire("GET", "/x")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    for _ in range(5):
        throttle.acquire("GET", "/x")
    assert len(messages) == 1
    assert messages[0].startswith(f"The throttle store sqlite:///{path} is unavailable (OperationalError: database")
    assert "own share of the limits" in messages[0]
    assert throttle.status.store == "sqlite unavailable, worker share in memory"
    holder.execute("ROLLBACK")
    holder.close()
    time.sleep(0.3)
    throttle.acquire("GET", "/x")
    assert messages[1:] == [f"The throttle store sqlite:///{path} is back; the shared limits apply again."]
    assert throttle.status.store == "sqlite"


def test_an_unwritable_sqlite_path_never_fails_a_call(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    messages: list[str] = []
    throttle = Throttle(
        "unwritable", RateSpec(1000, 1), store_url=f"sqlite:///{tmp_path}/a-file/t.db", warn=messages.append
    )
    for _ in range(3):
        throttle.acquire("GET", "/x")
    assert len(messages) == 1 and "is unavailable" in messages[0]


# -- Redis -------------------------------------------------------------------------------------------------
def test_a_redis_outage_falls_back_to_the_share_and_reconnects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stores, "RETRY_FIRST", 0.2)
    with RedisServer() as server:
        if not server.available:
            pytest.skip("redis-server is not installed")
        messages: list[str] = []
        throttle = Throttle("outage", RateSpec(100, 1, burst=20), store_url=server.url, workers=4, warn=messages.append)
        throttle.acquire("GET", "/x")
        assert throttle.status.store == "redis"
        server.stop()
        started = time.monotonic()
        for _ in range(8):
            throttle.acquire("GET", "/x")
        # The share starts empty (what the others spent is unknown): 8 calls at 100/4 = 25/s.
        assert time.monotonic() - started >= 0.25
        assert len(messages) == 1
        assert "is unavailable (ConnectionError" in messages[0]
        server.start()
        time.sleep(0.5)
        throttle.acquire("GET", "/x")
        throttle.acquire("GET", "/x")
        assert messages[1:] == [f"The throttle store {server.url} is back; the shared limits apply again."]
        import redis

        assert redis.Redis.from_url(server.url).exists("connectors:throttle:bucket:outage")


def test_a_redis_that_does_not_answer_times_out_into_the_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that accepts the connection and then says nothing (a hung Redis, a half-open network)."""
    import socket

    from Connectors.core import redis_store

    monkeypatch.setattr(redis_store, "SOCKET_TIMEOUT_SECONDS", 0.3)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        messages: list[str] = []
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        throttle = Throttle("silent", RateSpec(1000, 1), store_url=url, workers=2, warn=messages.append)
        for _ in range(5):
            throttle.acquire("GET", "/x")
        assert len(messages) == 1 and "is unavailable (TimeoutError" in messages[0]
    finally:
        silent.close()


def test_a_redis_password_never_reaches_the_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors_sandbox.server import free_port

    messages: list[str] = []
    url = f"redis://:hunter2-redis-pw@127.0.0.1:{free_port()}/0"
    throttle = Throttle("pw", RateSpec(1000, 1), store_url=url, warn=messages.append)
    throttle.acquire("GET", "/x")
    assert len(messages) == 1 and "hunter2-redis-pw" not in messages[0] and ":***@" in messages[0]


def test_import_stays_light() -> None:
    code = (
        "import sys, Connectors; from Connectors import RobawsClient; "
        "RobawsClient('http://127.0.0.1:9', username='u', password='p'); "
        "print(sorted(m for m in ('redis', 'sqlite3') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
