"""Checkpoints: small named JSON values - where an incremental sync got to - kept in the shared store.

They live where ``CONNECTORS_THROTTLE_STORE`` keeps the throttle state - a SQLite file (``sqlite:///path``)
or Redis (``redis://host:port/db``) - so that another worker, or the next scheduled run, continues from the
checkpoint another process wrote. A checkpoint in this process's memory would die with it, and the next
run would start over or, worse, from nowhere: without a shared store ``open_checkpoints`` fails in one line.

Unlike throttle state, a checkpoint never expires (a weekly run must find last week's). Writes are whole
values, last writer wins; ``put`` is one transaction (SQLite ``BEGIN IMMEDIATE``, a Redis ``SET``), so a
process killed while writing leaves the old value or the new one, never half of one.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from Connectors.core.errors import ConfigurationError, ConnectorError
from Connectors.core.stores import _safe_url, describe_store

if TYPE_CHECKING:
    import sqlite3

Value = dict[str, Any]
REDIS_PREFIX = "connectors:checkpoint:"
BUSY_TIMEOUT_SECONDS = 10.0


class CheckpointError(ConnectorError):
    """The checkpoint store could not be read or written."""


class CheckpointStore(ABC):
    def __init__(self, url: str) -> None:
        self.url = url

    @abstractmethod
    def _get(self, name: str) -> str | None: ...

    @abstractmethod
    def _put(self, name: str, text: str) -> None: ...

    def get(self, name: str) -> Value | None:
        """The checkpoint ``name``, or None when none was written yet."""
        try:
            text = self._get(name)
        except Exception as error:  # a driver's own error types (sqlite3, redis): one line either way
            raise self._failed("read", name, error) from None
        if text is None:
            return None
        value = json.loads(text)
        return value if isinstance(value, dict) else None

    def put(self, name: str, value: Value) -> None:
        """Write checkpoint ``name`` (one transaction: the old value or the new one, never half)."""
        text = json.dumps(value, separators=(",", ":"), sort_keys=True)
        try:
            self._put(name, text)
        except Exception as error:
            raise self._failed("write", name, error) from None

    def _failed(self, what: str, name: str, error: Exception) -> CheckpointError:
        return CheckpointError(
            f"Could not {what} checkpoint {name!r} in {_safe_url(self.url)}: {type(error).__name__}: {error}",
            hint="Check that the store is reachable and writable; the checkpoint was not changed.",
        )

    def close(self) -> None:
        return None


class SQLiteCheckpoints(CheckpointStore):
    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url)
        self.path = path
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        # A connection per call: checkpoints are written a few times per run, and a connection must not
        # cross a fork or a thread. Imported here: `import Connectors` stays light.
        import sqlite3

        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        db.execute(
            "CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, value TEXT NOT NULL, written REAL NOT NULL)"
        )
        return db

    def _get(self, name: str) -> str | None:
        with self._lock:
            db = self._connect()
            try:
                row = db.execute("SELECT value FROM checkpoints WHERE name = ?", (name,)).fetchone()
            finally:
                db.close()
        return None if row is None else str(row[0])

    def _put(self, name: str, text: str) -> None:
        with self._lock:
            db = self._connect()
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "INSERT INTO checkpoints (name, value, written) VALUES (?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = excluded.value, written = excluded.written",
                    (name, text, time.time()),
                )
                db.execute("COMMIT")
            finally:
                db.close()


class RedisCheckpoints(CheckpointStore):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        from Connectors.core.redis_store import RedisBackend

        self._client = RedisBackend(url).client

    def _get(self, name: str) -> str | None:
        value = self._client.get(REDIS_PREFIX + name)
        return None if value is None else value.decode() if isinstance(value, bytes) else str(value)

    def _put(self, name: str, text: str) -> None:
        self._client.set(REDIS_PREFIX + name, text)  # no expiry: a checkpoint outlives any quiet spell

    def close(self) -> None:
        self._client.close()


def open_checkpoints(url: str | None, purpose: str) -> CheckpointStore:
    """The checkpoints of the store ``url`` (``CONNECTORS_THROTTLE_STORE``); ``purpose`` names what needs them
    in the one-line refusal when the store is this process's memory."""
    kind = describe_store(url)
    if kind == "memory":
        raise ConfigurationError(
            f"{purpose} keeps its checkpoint in a shared store, and CONNECTORS_THROTTLE_STORE is memory.",
            hint="Set CONNECTORS_THROTTLE_STORE to sqlite:///path/to/file.db (one machine) or "
            "redis://host:port/db (many workers), so that the next run continues from the checkpoint.",
        )
    assert url is not None
    if kind == "sqlite":
        parsed = urlparse(url)
        path = unquote(parsed.netloc + parsed.path) if parsed.netloc else "/" + unquote(parsed.path).lstrip("/")
        if path in ("", "/"):
            raise ConfigurationError(f"Store {url!r} names no file.", hint="Use sqlite:///path/to/file.db")
        return SQLiteCheckpoints(url, Path(path))
    if kind in ("redis", "rediss", "unix"):
        return RedisCheckpoints(url)
    raise ConfigurationError(
        f"Unknown store {_safe_url(url)!r}.", hint="Use sqlite:///path/file.db or redis://host:port/db."
    )
