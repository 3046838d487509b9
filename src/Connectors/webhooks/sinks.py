"""Where events go: input work items in a folder, or one Control Room process run per event.

A sink has two operations. ``hand_off(event)`` hands one event off and returns a short description
of what it made (a file name, a run id). ``find(events)`` looks for events that were already handed
off by an attempt whose outcome is unknown (the process was killed, the answer was lost) and returns
what it found, so that the dispatcher never hands such an event off a second time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from Connectors.webhooks.store import StoredEvent


class Sink(Protocol):
    description: str

    def prepare(self) -> None:
        """Fail fast (one line) when the sink cannot work at all, e.g. an unknown process."""

    def hand_off(self, event: StoredEvent) -> str: ...

    def find(self, events: Sequence[StoredEvent]) -> dict[int, str]: ...

    def flush(self, force: bool = False) -> None: ...


def work_item_payload(event: StoredEvent) -> dict[str, Any]:
    """The input work item of one event; ``source`` and ``id`` name the event (reconciliation keys)."""
    body = event.event()
    return {
        "source": event.source,
        "id": event.id,
        "event": body.get("event"),
        "data": body.get("data", body.get("payload")),
        "received_at": datetime.fromtimestamp(event.received_at, timezone.utc).isoformat(timespec="milliseconds"),
    }


_SAFE_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,79}")


def _file_name(event: StoredEvent) -> str:
    """Named by the event: its receipt number (stable: given once, at the first delivery) and id."""
    name = event.id if _SAFE_ID.fullmatch(event.id) else hashlib.sha256(event.id.encode()).hexdigest()[:32]
    return f"{event.seq:09d}-{event.source}-{name}.json"


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.parent / f".tmp-{os.getpid()}-{path.name}"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _sync_folder(folder: Path) -> None:
    # The rename is durable only once the folder itself is synced (POSIX); Windows cannot open folders.
    if hasattr(os, "O_DIRECTORY"):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class WorkItemFolder:
    """One input work item file per event, plus a compacted ``work-items.json`` of all of them.

    ``--work-items out/`` writes ``out/work-items/<n>-<source>-<id>.json`` (each a FileAdapter input
    file holding one item) and ``out/work-items.json`` (every item, in the order received), which
    ``RPA_INPUT_WORKITEM_PATH`` (RPA.Robocorp.WorkItems) or ``RC_WORKITEM_INPUT_PATH``
    (robocorp-workitems) can point at. ``--work-items out/items.json`` writes ``out/items.json`` and
    ``out/items/``. Writing an event's file again yields the same bytes under the same name, so a
    hand-off repeated after a crash is a no-op. The folder is the truth: the compacted file is rebuilt
    from it (streamed, one item at a time), so a file removed from the folder leaves it at the next rebuild.
    """

    COMPACT_INTERVAL = 1.0  # least seconds between rebuilds while events stream in

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if path.suffix.lower() == ".json":
            self.compacted = path
            self.folder = path.with_suffix("")
        else:
            self.compacted = path / "work-items.json"
            self.folder = path / "work-items"
        self.description = f"work items in {self.folder}"
        self._dirty = True
        self._next_rebuild = 0.0

    def prepare(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for leftover in [*self.folder.glob(".tmp-*"), *self.compacted.parent.glob(f".tmp-*-{self.compacted.name}")]:
            leftover.unlink(missing_ok=True)  # a write cut short by a crash; its event is still open
        self.flush(force=True)

    def _item(self, event: StoredEvent) -> dict[str, Any]:
        return {"payload": work_item_payload(event), "files": {}}

    def hand_off(self, event: StoredEvent) -> str:
        name = _file_name(event)
        _write_atomically(self.folder / name, json.dumps([self._item(event)], indent=2, ensure_ascii=False).encode())
        _sync_folder(self.folder)
        self._dirty = True
        return f"{self.folder.name}/{name}"

    def find(self, events: Sequence[StoredEvent]) -> dict[int, str]:
        found = {}
        for event in events:
            name = _file_name(event)
            if (self.folder / name).is_file():
                found[event.seq] = f"{self.folder.name}/{name}"
        return found

    def flush(self, force: bool = False) -> None:
        started = time.monotonic()
        if not self._dirty or (not force and started < self._next_rebuild):
            return
        names = sorted(
            entry.name for entry in os.scandir(self.folder) if entry.name.endswith(".json") and entry.name[0] != "."
        )
        temporary = self.compacted.parent / f".tmp-{os.getpid()}-{self.compacted.name}"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write("[")
            first = True
            for name in names:
                try:
                    (item,) = json.loads((self.folder / name).read_bytes())
                except (ValueError, TypeError, OSError):
                    continue  # not one of ours, edited by hand, or removed meanwhile
                handle.write(("\n" if first else ",\n") + json.dumps(item, ensure_ascii=False))
                first = False
            handle.write("\n]\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.compacted)
        self._dirty = False
        # Rebuilding reads every item: with a large folder, rebuild less often than once a second.
        elapsed = time.monotonic() - started
        self._next_rebuild = time.monotonic() + max(self.COMPACT_INTERVAL, 4 * elapsed)


class ControlRoomRuns:
    """The process-run sink: one Control Room run per event, its single input work item the event.

    Reconciliation reads the process's work items back and matches their payload's ``source`` and
    ``id``. It is the one place that uses ``ControlRoomClient``, and it needs exactly:
    ``ControlRoomClient()`` (settings from ``CONTROLROOM_*``), ``resolve_process(process)``,
    ``trigger_run(process, payload)`` (→ a run with ``id``) and
    ``list_work_items(process=…)`` (→ items with ``id`` and ``created_at``) and ``get_work_item(id)``
    (→ its ``payload`` and ``process_run.id``).
    """

    def __init__(self, process: str, client: Any = None) -> None:
        if client is None:
            from Connectors.vendors.controlroom.client import ControlRoomClient

            client = ControlRoomClient()
        self.client = client
        self.process = process
        self.description = f"Control Room runs of process {process}"

    def prepare(self) -> None:
        # Fail at start, not at the first event: an unknown process or a key that cannot read items.
        self.client.resolve_process(self.process)
        next(iter(self.client.list_work_items(process=self.process, include_data=True, limit=1)), None)

    def hand_off(self, event: StoredEvent) -> str:
        run = self.client.trigger_run(self.process, work_item_payload(event))
        return f"run {run.get('id')}"

    def find(self, events: Sequence[StoredEvent]) -> dict[int, str]:
        wanted = {(event.source, event.id): event.seq for event in events}
        found: dict[int, str] = {}
        # Control Room's list has no payloads, so each item is read on its own: read only the items that
        # could have been made for these events (created after the earliest was received, with an hour of
        # slack for clocks), not the process's whole history.
        oldest = min((event.received_at for event in events), default=0.0) - 3600
        rows: Iterable[dict[str, Any]] = self.client.list_work_items(process=self.process)
        recent = (row for row in rows if _created(row) >= oldest)
        items = (self.client.get_work_item(str(row["id"])) for row in recent)
        for item in items:
            payload = item.get("payload")
            if not isinstance(payload, dict):
                continue
            seq = wanted.get((str(payload.get("source")), str(payload.get("id"))))
            if seq is not None and seq not in found:
                run = item.get("process_run") or {}
                found[seq] = f"run {run.get('id')}" if run.get("id") else f"work item {item.get('id')}"
                if len(found) == len(wanted):
                    break
        return found

    def flush(self, force: bool = False) -> None:
        return None


def _created(row: dict[str, Any]) -> float:
    """A work item's creation time (Unix seconds); an unreadable one counts as recent."""
    try:
        return datetime.fromisoformat(str(row.get("created_at")).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float("inf")
