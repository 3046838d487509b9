"""`connectors webhooks serve`: a small webhook receiver that verifies, persists, de-duplicates and
turns vendor events into work items (or Control Room runs).

Vendors deliver at least once and retry until they get a 2xx, so the receiver acknowledges a
duplicate with 200 and does nothing else with it; only a bad signature or a malformed body is
refused. Events are stored in SQLite before anything else happens, so none is lost when the
hand-off (work item file, process run) fails: it is retried on the next delivery or restart.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from Connectors.core import log
from Connectors.core.config import env, secret_value
from Connectors.core.errors import ConfigurationError, ConnectorError
from Connectors.core.webhooks import SignatureError, verify_body, verify_timestamped

Verifier = Callable[[bytes, Mapping[str, str]], None]


@dataclass(frozen=True)
class Source:
    """One vendor's deliveries: where they arrive and how their signature is checked."""

    name: str
    verify: Verifier


def robaws_source(secret: str, tolerance: float = 300) -> Source:
    def verify(body: bytes, headers: Mapping[str, str]) -> None:
        verify_timestamped(secret, body, headers.get("robaws-signature"), tolerance=tolerance)

    return Source("robaws", verify)


def controlroom_source(secret: str) -> Source:
    def verify(body: bytes, headers: Mapping[str, str]) -> None:
        verify_body(secret, body, headers.get("x-rc-signature"))

    return Source("controlroom", verify)


class EventStore:
    """Received events, one row per (source, event id); the primary key is the de-duplication."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS events (source TEXT NOT NULL, id TEXT NOT NULL, received_at REAL NOT NULL,"
            " body TEXT NOT NULL, dispatched INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (source, id))"
        )

    def add(self, source: str, event_id: str, body: str) -> bool:
        """Store an event; False when it was already there."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO events (source, id, received_at, body) VALUES (?, ?, ?, ?)",
                (source, event_id, time.time(), body),
            )
            return cursor.rowcount == 1

    def pending(self) -> list[tuple[str, str, str]]:
        with self._lock:
            return list(
                self._db.execute("SELECT source, id, body FROM events WHERE dispatched = 0 ORDER BY received_at")
            )

    def mark_dispatched(self, source: str, event_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE events SET dispatched = 1 WHERE source = ? AND id = ?", (source, event_id))

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])


class WorkItemSink:
    """Appends each event as an input work item to a FileAdapter ``work-items.json``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.suffix != ".json":
            self.path = self.path / "work-items.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def __call__(self, source: str, event: dict[str, Any]) -> None:
        with self._lock:
            items = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else []
            items.append(
                {
                    "payload": {
                        "source": source,
                        "event": event.get("event"),
                        "id": event.get("id"),
                        "data": event.get("data", event.get("payload")),
                    },
                    "files": {},
                }
            )
            fd, tmp = tempfile.mkstemp(dir=str(self.path.parent), prefix=".work-items-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(items, handle, indent=2)
            os.replace(tmp, self.path)


class ProcessRunSink:
    """Starts one Control Room process run per event, with the event as its work item payload."""

    def __init__(self, process: str) -> None:
        from Connectors import ControlRoomClient

        self.client = ControlRoomClient()
        self.process = process

    def __call__(self, source: str, event: dict[str, Any]) -> None:
        self.client.trigger_run(self.process, {"source": source, **event})


class Receiver:
    def __init__(self, store: EventStore, sources: list[Source], sink: Callable[[str, dict[str, Any]], None]) -> None:
        self.store = store
        self.sources = {source.name: source for source in sources}
        self.sink = sink
        self.stats = {"accepted": 0, "duplicates": 0, "rejected": 0, "dispatch_failures": 0}

    def handle(self, source_name: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        source = self.sources.get(source_name)
        if source is None:
            return 404, {"error": f"no webhook source {source_name!r}; known: {', '.join(self.sources)}"}
        try:
            source.verify(body, headers)
        except SignatureError as error:
            self.stats["rejected"] += 1
            log.info(f"Rejected a {source_name} webhook: {error.message}")
            return 401, {"error": error.message}
        try:
            event = json.loads(body)
            event_id = str(event.get("id") or "")
        except (ValueError, AttributeError):
            self.stats["rejected"] += 1
            return 400, {"error": "the body is not a JSON object"}
        if not event_id:
            return 400, {"error": "the event has no id"}
        if not self.store.add(source_name, event_id, body.decode("utf-8", errors="replace")):
            self.stats["duplicates"] += 1
            return 200, {"duplicate": True, "id": event_id}
        self.stats["accepted"] += 1
        self.dispatch_pending()
        return 200, {"accepted": True, "id": event_id}

    def dispatch_pending(self) -> None:
        for source, event_id, body in self.store.pending():
            try:
                self.sink(source, json.loads(body))
            except (ConnectorError, OSError) as error:
                # Stored already: it is handed off again on the next delivery or restart.
                self.stats["dispatch_failures"] += 1
                log.info(f"Could not hand off {source} event {event_id}: {error}")
                return
            self.store.mark_dispatched(source, event_id)


def create_app(receiver: Receiver) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def deliver(request: Request) -> JSONResponse:
        status, body = receiver.handle(request.path_params["source"], await request.body(), request.headers)
        return JSONResponse(body, status_code=status)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"events": receiver.store.count(), **receiver.stats})

    return Starlette(
        routes=[Route("/webhooks/{source}", deliver, methods=["POST"]), Route("/health", health, methods=["GET"])]
    )


def build_receiver(
    store: str,
    work_items: str | None,
    process: str | None,
    robaws_secret: str | None = None,
    controlroom_secret: str | None = None,
) -> Receiver:
    sources = []
    robaws = secret_value(robaws_secret or env("ROBAWS_WEBHOOK_SECRET"))
    if robaws:
        sources.append(robaws_source(robaws, float(env("ROBAWS_WEBHOOK_TOLERANCE", "300") or 300)))
    controlroom = secret_value(controlroom_secret or env("CONTROLROOM_WEBHOOK_SECRET"))
    if controlroom:
        sources.append(controlroom_source(controlroom))
    if not sources:
        raise ConfigurationError(
            "No webhook secret is configured.", hint="Set ROBAWS_WEBHOOK_SECRET and/or CONTROLROOM_WEBHOOK_SECRET."
        )
    sink: Callable[[str, dict[str, Any]], None]
    if process:
        sink = ProcessRunSink(process)
    elif work_items:
        sink = WorkItemSink(work_items)
    else:
        raise ConfigurationError("Nowhere to hand events to.", hint="Pass --work-items DIR or --process ID.")
    receiver = Receiver(EventStore(store), sources, sink)
    receiver.dispatch_pending()
    return receiver
