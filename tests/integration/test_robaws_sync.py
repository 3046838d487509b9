"""Incremental sync against the sandbox: changes between syncs, a syncing process killed with SIGKILL mid-page
and restarted, the checkpoint in a SQLite store another process reads - every change delivered at least once,
none skipped, the checkpoint never ahead of what was delivered. And the keywords: the checkpoint advances
when the task passes, not when it fails."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from Connectors import RobawsClient
from Connectors.core.errors import ConfigurationError
from connectors_sandbox.server import SandboxProcess

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[2]

# The syncing process: hands each change to a file (flushed and fsynced, as a real consumer would commit
# it) and advances the checkpoint when all were handled. argv: out file, delay per change, page size.
SYNCER = textwrap.dedent(
    """
    import json, os, sys, time
    from Connectors import RobawsClient

    out, delay, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    with open(out, "a") as handle, RobawsClient() as robaws:
        with robaws.sync("clients", "kill-test", page_size=size) as changes:
            for client in changes:
                handle.write(json.dumps([client["id"], client["updatedAt"]]) + "\\n")
                handle.flush()
                os.fsync(handle.fileno())
                time.sleep(delay)
    print("SYNCED", flush=True)
    """
)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "store.db"
    monkeypatch.setenv("CONNECTORS_THROTTLE_STORE", f"sqlite:///{path}")
    return path


def delivered(out: Path) -> set[tuple[int, str]]:
    if not out.exists():
        return set()
    return {(int(i), str(u)) for i, u in (json.loads(line) for line in out.read_text().splitlines() if line)}


def checkpoint_since(store: Path) -> str | None:
    """The checkpoint as another process reads it from the shared SQLite store."""
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT value FROM checkpoints WHERE name LIKE '%:kill-test'").fetchall()
    return json.loads(rows[0][0])["since"] if rows else None


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def syncer(out: Path, delay: float, size: int = 5) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SYNCER, str(out), str(delay), str(size)],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def current(robaws: RobawsClient) -> set[tuple[int, str]]:
    return {(c["id"], c["updatedAt"]) for c in robaws.list("clients", limit=None)}


def assert_not_ahead(store: Path, out: Path) -> None:
    since = checkpoint_since(store)
    if since is not None:
        assert instant(since) <= max(instant(u) for _, u in delivered(out)), (since, "ahead of what was delivered")


def test_killed_mid_page_and_restarted_every_change_is_delivered(
    sandbox: SandboxProcess, store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "delivered.jsonl"
    with RobawsClient() as robaws:
        first = syncer(out, 0)
        assert "SYNCED" in first.communicate(timeout=120)[0]
        assert delivered(out) == current(robaws)  # the first sync: everything
        since = checkpoint_since(store)
        assert since == max((u for _, u in delivered(out)), key=instant)

        # Changes between syncs: new clients and updates to old ones.
        created = [robaws.create_client({"name": f"Sync New {n}"})["id"] for n in range(12)]
        old = sorted(i for i, _ in delivered(out))[:5]
        for client_id in old:
            robaws.update("clients", client_id, {"city": "Gent"})
        changes = current(robaws) - delivered(out)
        assert len(changes) == 17

        killed = syncer(out, 0.3)
        before = len(delivered(out))
        deadline = time.monotonic() + 60
        while len(delivered(out)) < before + 7 and time.monotonic() < deadline:  # into its second page
            time.sleep(0.05)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        handed = len(delivered(out)) - before
        assert 7 <= handed < len(changes), handed  # killed mid-page, with changes left to deliver
        assert checkpoint_since(store) == since  # not advanced: nothing after it was confirmed handled
        assert_not_ahead(store, out)

        # More changes while it was down, one of them to a client the killed run had delivered.
        again = sorted(delivered(out), key=lambda pair: instant(pair[1]))[-1][0]
        robaws.update("clients", again, {"city": "Brugge"})
        robaws.update("clients", created[-1], {"city": "Leuven"})
        robaws.create_client({"name": "Sync Late"})

        restarted = syncer(out, 0)
        assert "SYNCED" in restarted.communicate(timeout=120)[0]
        assert current(robaws) <= delivered(out)  # every change at least once, none skipped
        assert_not_ahead(store, out)
        assert checkpoint_since(store) == max((u for _, u in current(robaws)), key=instant)

        lines = len(out.read_text().splitlines())
        quiet = syncer(out, 0)
        assert "SYNCED" in quiet.communicate(timeout=120)[0]
        assert len(out.read_text().splitlines()) == lines  # nothing changed: nothing delivered again


def test_another_worker_continues_from_the_checkpoint_and_a_failed_block_does_not_advance(
    sandbox: SandboxProcess, store: Path
) -> None:
    with RobawsClient() as worker_a, RobawsClient() as worker_b:
        with worker_a.sync("suppliers", "handover") as changes:
            assert len(list(changes)) >= 5
        new = worker_a.create("suppliers", {"name": "Handover BV", "vatNumber": "BE0111222333"})
        with pytest.raises(RuntimeError), worker_b.sync("suppliers", "handover") as changes:
            assert [s["id"] for s in changes] == [new["id"]]
            raise RuntimeError("the consumer failed")
        with worker_b.sync("suppliers", "handover") as changes:  # delivered again: it was not handled
            assert [s["id"] for s in changes] == [new["id"]]
        assert list(worker_a.sync("suppliers", "handover")) == []


def test_paging_by_updated_from_survives_updates_during_the_sync(sandbox: SandboxProcess, store: Path) -> None:
    """An entity updated mid-sync moves to the end of the order; page numbers alone would skip its neighbour."""
    with RobawsClient() as robaws:
        everything = current(robaws)
        seen: list[tuple[int, str]] = []
        with robaws.sync("clients", "moving", page_size=5) as changes:
            for index, client in enumerate(changes):
                seen.append((client["id"], client["updatedAt"]))
                if index == 2:
                    robaws.update("clients", client["id"] - 1 if client["id"] > 1001 else 1001, {"city": "Aalst"})
        assert {i for i, _ in everything} <= {i for i, _ in seen}  # no client skipped


def test_the_in_memory_store_fails_in_one_line(sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONNECTORS_THROTTLE_STORE", raising=False)
    with RobawsClient() as robaws, pytest.raises(ConfigurationError) as error:
        robaws.sync("clients", "nowhere")
    text = str(error.value)
    assert "CONNECTORS_THROTTLE_STORE" in text and "sqlite:///" in text and "\n" not in text


SUITE = """
*** Settings ***
Library    Connectors.Robaws

*** Tasks ***
Sync And Fail
    ${changed}    Sync Robaws Resources    clients    checkpoint=robot
    Log    ${changed.__len__()} changed
    Fail    The export failed

Sync And Pass
    ${changed}    Sync Robaws Resources    clients    checkpoint=robot
    Should Not Be Empty    ${changed}

Nothing Since The Passed Task
    ${changed}    Sync Robaws Resources    clients    checkpoint=robot
    Should Be Empty    ${changed}
    Create Robaws Client    name=Robot Sync BV
    ${changed}    Sync Robaws Resources    clients    checkpoint=robot
    Length Should Be    ${changed}    1
    Advance Robaws Sync Checkpoint    robot
    ${changed}    Sync Robaws Resources    clients    checkpoint=robot
    Should Be Empty    ${changed}
"""


def test_the_keyword_checkpoint_advances_when_the_task_passes(
    sandbox: SandboxProcess, store: Path, tmp_path: Path
) -> None:
    suite = tmp_path / "sync.robot"
    suite.write_text(SUITE)
    result = subprocess.run(
        [sys.executable, "-m", "robot", "--outputdir", str(tmp_path), "--console", "none", str(suite)],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    from robot.api import ExecutionResult

    tests: dict[str, Any] = {t.name: t for t in ExecutionResult(str(tmp_path / "output.xml")).suite.tests}
    assert tests["Sync And Fail"].status == "FAIL"
    # The failed task's changes came again in the next one (it would be empty had the checkpoint advanced).
    assert tests["Sync And Pass"].status == "PASS", tests["Sync And Pass"].message
    assert tests["Nothing Since The Passed Task"].status == "PASS", tests["Nothing Since The Passed Task"].message
    assert result.returncode == 1
