"""Throttle state in a SQLite file shared by the processes of one machine (pabot, several rcc runs).

One row per key; every transaction is ``BEGIN IMMEDIATE``, which takes the write lock up front, so
two processes never both read the old state. WAL keeps readers and the one writer out of each
other's way.

Opening is the delicate part: many processes creating the same new file at once race to switch it
to WAL, and ``PRAGMA journal_mode=WAL`` may answer "database is locked" at once, without waiting
for the busy timeout. That race is retried here for a while; whatever still fails becomes
``StoreUnavailable``, which the caller answers by falling back to the worker's share.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from Connectors.core.stores import STATE_TTL_SECONDS, Backend, State, Step, StoreUnavailable, T

# A writer holds the lock for well under a millisecond; one that holds it this long is stuck.
BUSY_TIMEOUT_SECONDS = 5.0
OPEN_RETRY_SECONDS = 10.0


class SQLiteBackend(Backend):
    kind = "sqlite"
    shared = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        # A connection must not cross a fork: a child process opens its own.
        if self._db is not None and self._pid == os.getpid():
            return self._db
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are begun explicitly (BEGIN IMMEDIATE).
        db = sqlite3.connect(
            str(self.path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        try:
            _prepare(db)
        except BaseException:
            db.close()
            raise
        self._db, self._pid = db, os.getpid()
        return db

    def transact(self, keys: Sequence[str], step: Step[T]) -> T:
        with self._lock:
            try:
                db = self._connection()
                db.execute("BEGIN IMMEDIATE")
            except (sqlite3.Error, OSError) as error:
                self._forget()
                raise StoreUnavailable(f"{type(error).__name__}: {error}") from error
            try:
                marks = ",".join("?" * len(keys))
                rows = db.execute(f"SELECT key, state FROM throttle_state WHERE key IN ({marks})", list(keys))  # noqa: S608 - only placeholders
                found = dict(rows.fetchall())
                states: dict[str, State | None] = {
                    key: json.loads(found[key]) if key in found else None for key in keys
                }
                changes, result = step(states)
                expires = time.time() + STATE_TTL_SECONDS
                for key, state in changes.items():
                    db.execute(
                        "INSERT INTO throttle_state (key, state, expires) VALUES (?, ?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET state = excluded.state, expires = excluded.expires",
                        (key, json.dumps(state, separators=(",", ":")), expires),
                    )
                db.execute("COMMIT")
                return result
            except sqlite3.Error as error:
                _rollback(db)
                self._forget()
                raise StoreUnavailable(f"{type(error).__name__}: {error}") from error
            except BaseException:
                _rollback(db)
                raise

    def _forget(self) -> None:
        # After an error the next transaction opens a fresh connection (the file may be back).
        if self._db is not None and self._pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None

    def close(self) -> None:
        with self._lock:
            self._forget()


def _prepare(db: sqlite3.Connection) -> None:
    deadline = time.monotonic() + OPEN_RETRY_SECONDS
    while True:
        try:
            # journal_mode is kept in the file: only the first opener has to switch it.
            if str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS throttle_state "
                "(key TEXT PRIMARY KEY, state TEXT NOT NULL, expires REAL NOT NULL)"
            )
            db.execute("DELETE FROM throttle_state WHERE expires < ?", (time.time(),))
            return
        except sqlite3.OperationalError as error:
            text = str(error).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.005, 0.05))


def _rollback(db: sqlite3.Connection) -> None:
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
    except sqlite3.Error:
        pass
