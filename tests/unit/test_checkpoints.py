"""The checkpoint store beside the throttle stores: SQLite and Redis alike, never the process's memory."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest

from Connectors.core.checkpoints import CheckpointError, CheckpointStore, open_checkpoints
from Connectors.core.errors import ConfigurationError
from support.redis_server import RedisServer, redis_or_skip


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CheckpointStore]:
    if request.param == "sqlite":
        yield open_checkpoints(f"sqlite:///{tmp_path / 'store.db'}", "A test")
        return
    with redis_or_skip() as server:
        opened = open_checkpoints(server.url, "A test")
        yield opened
        opened.close()


def test_a_checkpoint_is_written_whole_and_read_back(store: CheckpointStore) -> None:
    assert store.get("sync:a") is None
    store.put("sync:a", {"since": "2024-06-01T10:00:00.000Z", "seen": {"1": "2024-06-01T10:00:00.000Z"}})
    store.put("sync:b", {"since": None, "seen": {}})
    store.put("sync:a", {"since": "2024-06-02T10:00:00.000Z", "seen": {}})
    assert store.get("sync:a") == {"since": "2024-06-02T10:00:00.000Z", "seen": {}}
    assert store.get("sync:b") == {"since": None, "seen": {}}


def _write(url: str, name: str) -> None:
    open_checkpoints(url, "A test").put(name, {"by": "another process"})


def test_another_process_reads_what_one_wrote(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    child = multiprocessing.get_context("spawn").Process(target=_write, args=(url, "handover"))
    child.start()
    child.join(60)
    assert open_checkpoints(url, "A test").get("handover") == {"by": "another process"}


@pytest.mark.parametrize("url", [None, "", "memory"])
def test_memory_is_refused_in_one_line(url: str | None) -> None:
    with pytest.raises(ConfigurationError) as error:
        open_checkpoints(url, "A Robaws sync")
    text = str(error.value)
    assert text.startswith("A Robaws sync keeps its checkpoint in a shared store") and "\n" not in text


def test_an_unwritable_store_fails_in_one_line_without_the_password(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-file.db"
    folder.mkdir()
    with pytest.raises(CheckpointError) as error:
        open_checkpoints(f"sqlite:///{folder}", "A test").put("x", {})
    assert "Could not write checkpoint 'x'" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(CheckpointError) as error:
        open_checkpoints("redis://:pa55word-checkpoint@127.0.0.1:1/0", "A test").get("x")
    assert "pa55word-checkpoint" not in str(error.value)


def test_a_redis_server_stopped_mid_run_fails_the_write_not_the_process() -> None:
    with redis_or_skip() as server:
        store = open_checkpoints(server.url, "A test")
        store.put("x", {"n": 1})
        stop(server)
        with pytest.raises(CheckpointError, match="the checkpoint was not changed"):
            store.put("x", {"n": 2})


def stop(server: RedisServer) -> None:
    server.stop()
