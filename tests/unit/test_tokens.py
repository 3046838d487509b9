"""The token store: atomic writes, and exactly one refresh when processes share a rotating token."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest

from Connectors.core.errors import AuthenticationError
from Connectors.core.tokens import FileTokenStore


def _refresh_in_process(store_path: str, counter_path: str, queue: multiprocessing.Queue) -> None:
    store = FileTokenStore(store_path)
    stale = store.get("v:client")

    def refresh(current: dict) -> dict:
        with open(counter_path, "a") as handle:
            handle.write("x")
        time.sleep(0.2)  # a slow token endpoint widens the race
        return {"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": 3600}

    def needs_refresh(token: dict) -> bool:
        return float(token.get("expires_at", 0)) < time.time() + 60

    fresh = store.refresh_once("v:client", stale, needs_refresh, refresh)
    queue.put(fresh["access_token"])


def test_concurrent_processes_refresh_a_rotating_token_exactly_once(tmp_path: Path) -> None:
    store_path = tmp_path / "tokens.json"
    counter = tmp_path / "refreshes"
    counter.write_text("")
    FileTokenStore(store_path).put(
        "v:client", {"access_token": "old", "refresh_token": "old-refresh", "expires_at": time.time() - 5}
    )
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_refresh_in_process, args=(str(store_path), str(counter), queue))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(10)
    assert results == ["new-access"] * 4
    assert counter.read_text() == "x"
    stored = json.loads(store_path.read_text())["v:client"]
    assert stored["refresh_token"] == "new-refresh" and stored["expires_at"] > time.time()


def test_store_file_is_private_and_never_half_written(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "t.json")
    store.put("a", {"access_token": "x" * 10})
    assert (tmp_path / "t.json").stat().st_mode & 0o077 == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tokens-")]
    store.delete("a")
    assert store.get("a") is None


def test_missing_token_says_to_log_in(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "t.json")
    store.put("other", {"access_token": "y" * 10})
    with pytest.raises(AuthenticationError, match="connectors login"):
        store.refresh_once("missing", None, lambda t: True, lambda t: t)
