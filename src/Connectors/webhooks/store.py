"""The receiver's durable event log: one SQLite row per (source, event id).

A row is written, and committed with a full sync, before the delivery is acknowledged: a vendor that
got a 2xx may forget the event, so from then on the row is the only copy. Its state moves one way:

    received ──► handing_off ──► handed_off
                      │  ▲
                      ▼  │ (connectors webhooks retry)
                    failed

``handing_off`` is the outbox intent: it is committed *before* the hand-off starts, so after a crash
the receiver knows which events may already have been handed off and asks the sink to look before it
hands them off again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECEIVED = "received"
HANDING_OFF = "handing_off"
HANDED_OFF = "handed_off"
FAILED = "failed"
STATES = (RECEIVED, HANDING_OFF, HANDED_OFF, FAILED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    received_at REAL NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'received',
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at REAL,
    target TEXT,
    error TEXT,
    UNIQUE (source, id)
);
CREATE INDEX IF NOT EXISTS webhook_events_open ON webhook_events (state, seq);
"""


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    source: str
    id: str
    received_at: float
    body: bytes
    state: str
    attempts: int
    updated_at: float | None
    target: str | None
    error: str | None

    def event(self) -> dict[str, Any]:
        """The delivered JSON object (it was checked to be one before it was stored)."""
        parsed = json.loads(self.body)
        return parsed if isinstance(parsed, dict) else {}

    def summary(self) -> dict[str, Any]:
        """Everything but the body, for ``connectors webhooks status``."""
        return {
            "seq": self.seq,
            "source": self.source,
            "id": self.id,
            "received_at": self.received_at,
            "state": self.state,
            "attempts": self.attempts,
            "updated_at": self.updated_at,
            "target": self.target,
            "error": self.error,
        }


_COLUMNS = "seq, source, id, received_at, body, state, attempts, updated_at, target, error"


class EventStore:
    """Received events and their hand-off state; the unique (source, id) is the de-duplication."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the 2xx goes out, even if the machine loses power.
        self._db.execute("PRAGMA synchronous=FULL")
        with self._transaction():
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._migrate()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _migrate(self) -> None:
        """Carry over the single-table store of earlier versions (``events`` with a ``dispatched`` flag)."""
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "events" not in tables:
            return
        self._db.execute(
            "INSERT OR IGNORE INTO webhook_events (source, id, received_at, body, state, updated_at)"
            " SELECT source, id, received_at, CAST(body AS BLOB),"
            " CASE dispatched WHEN 1 THEN 'handed_off' ELSE 'handing_off' END, received_at"
            " FROM events ORDER BY received_at"
        )
        self._db.execute("DROP TABLE events")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writes ------------------------------------------------------------------------------------
    def add(self, source: str, event_id: str, body: bytes) -> bool:
        """Store an event; False when it was there already (a redelivery)."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO webhook_events (source, id, received_at, body) VALUES (?, ?, ?, ?)",
                (source, event_id, time.time(), body),
            )
            return cursor.rowcount == 1

    def _set(self, seq: int, state: str, **fields: Any) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._transaction() as db:
            db.execute(
                f"UPDATE webhook_events SET state = ?, updated_at = ?{', ' if fields else ''}{assignments}"  # noqa: S608 - column names are ours
                " WHERE seq = ?",
                (state, time.time(), *fields.values(), seq),
            )

    def mark_intent(self, seq: int) -> None:
        """Record that a hand-off is about to start (the outbox intent)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE webhook_events SET state = ?, attempts = attempts + 1, updated_at = ?, error = NULL"
                " WHERE seq = ?",
                (HANDING_OFF, time.time(), seq),
            )

    def mark_handed_off(self, seq: int, target: str) -> None:
        self._set(seq, HANDED_OFF, target=target, error=None)

    def mark_failed(self, seq: int, reason: str) -> None:
        self._set(seq, FAILED, error=reason)

    def note_error(self, seq: int, reason: str) -> None:
        """Keep the last transient error of an event that is still being handed off."""
        with self._transaction() as db:
            db.execute("UPDATE webhook_events SET error = ?, updated_at = ? WHERE seq = ?", (reason, time.time(), seq))

    def requeue_failed(self, source: str | None = None) -> int:
        """Failed events go back to ``handing_off``: the sink looks for them before handing them off again."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE webhook_events SET state = ?, updated_at = ? WHERE state = ? AND (? IS NULL OR source = ?)",
                (HANDING_OFF, time.time(), FAILED, source, source),
            )
            return cursor.rowcount

    # -- reads -------------------------------------------------------------------------------------
    def _select(self, where: str, params: tuple[Any, ...] = ()) -> list[StoredEvent]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM webhook_events {where}", params).fetchall()  # noqa: S608
        return [StoredEvent(*row) for row in rows]

    def open_events(self, limit: int = 100) -> list[StoredEvent]:
        """Events not handed off yet (received or with an intent), oldest first."""
        return self._select("WHERE state IN (?, ?) ORDER BY seq LIMIT ?", (RECEIVED, HANDING_OFF, limit))

    def get(self, seq: int) -> StoredEvent | None:
        rows = self._select("WHERE seq = ?", (seq,))
        return rows[0] if rows else None

    def last(self, count: int = 20) -> list[StoredEvent]:
        return list(reversed(self._select("ORDER BY seq DESC LIMIT ?", (max(0, count),))))

    def all(self) -> list[StoredEvent]:
        return self._select("ORDER BY seq")

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM webhook_events GROUP BY state").fetchall()
        found = {str(state): int(count) for state, count in rows}
        return {state: found.get(state, 0) for state in STATES}

    def count(self) -> int:
        return sum(self.counts().values())
