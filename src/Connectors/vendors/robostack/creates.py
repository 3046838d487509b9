"""Creating Robostack records exactly once when a create is repeated.

Robostack takes no idempotency key, so a ``PUT`` whose answer was lost cannot be replayed for the server
to recognise. Instead the client remembers a create that failed with an unknown outcome (or after part
of it was written) in the process-wide journal (``core.repeats``). When the same create - same
application, token, resource and records - is called again in the same process (the
``Wait Until Keyword Succeeds`` idiom, or a Python retry loop), it first looks for the records the earlier
attempt may have written - a find with each record's own plain fields as the selection, then every field
compared - and creates only those it does not find. A create that succeeded is forgotten, so a deliberate
second identical create still creates.

Two assumptions, documented in docs/robostack.md: the records of one request are written in order (so
when the first one is missing, none of that request was written and the rest are not looked up), and a
record identical in every field to one that existed before counts as written: give each record a field
that identifies it (an order number, a work item id).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from Connectors.core.errors import ConnectorError, UncertainOutcome
from Connectors.core.repeats import journal
from Connectors.core.transport import Transport

Record = dict[str, Any]
_PLAIN = (str, int, float, bool, type(None))


class Finder(Protocol):
    def find(self, resource: str, selection: Mapping[str, Any] | None = None, **fields: Any) -> list[Record]: ...


class Write:
    """One logical create (the resource's path and its records), journalled while its outcome is unknown."""

    def __init__(self, transport: Transport, path: str, body: Any) -> None:
        # "CREATE", not "PUT": the whole call across its chunks, not one request of it.
        self.id = transport.write_id("CREATE", path, body)

    def pending(self) -> bool:
        """An earlier attempt of this create failed in a way that may have written records."""
        return journal.pending(self.id) is not None

    def failed(self, error: ConnectorError, wrote_some: bool) -> None:
        # A refusal before anything was written (a 400 on the first chunk, an unreachable server) is
        # not remembered: repeating it has nothing to look for.
        if isinstance(error, UncertainOutcome) or wrote_some or self.pending():
            journal.remember(self.id, None, getattr(error, "started_at", None))

    def succeeded(self) -> None:
        journal.forget(self.id)

    @staticmethod
    def repeat_note(resource: str) -> str:
        return (
            f"repeating a create in {resource!r} whose earlier attempt may have written records: "
            "looking for them before creating anything."
        )


def already_created(client: Finder, resource: str, chunk: Sequence[Record]) -> list[Record | None]:
    """For each record of ``chunk``: the stored record an earlier attempt created, or ``None``."""
    found: list[Record | None] = [None] * len(chunk)
    taken: set[str] = set()
    answers: dict[str, list[Record]] = {}
    for index, record in enumerate(chunk):
        # The sandbox (and the documentation) match plain values exactly; nested values are compared below.
        selection = {name: value for name, value in record.items() if isinstance(value, _PLAIN)}
        key = _canonical(selection)
        if key not in answers:
            answers[key] = client.find(resource, selection)
        matches = [r for r in answers[key] if _same(record, r) and _identity(r) not in taken]
        if not matches:
            if index == 0:
                break  # written in order: nothing of this request was written
            continue
        stored = _newest(matches)
        taken.add(_identity(stored))
        found[index] = stored
    return found


def in_order(chunk: Sequence[Record], found: Sequence[Record | None], created: Sequence[Record]) -> list[Record]:
    """The records of ``chunk`` as stored: those found, and the newly ``created`` ones in their places."""
    fresh = iter(created)
    result: list[Record] = []
    for record, stored in zip(chunk, found, strict=True):
        if stored is None:
            stored = next(fresh, None) or dict(record)
        result.append(stored)
    return result


def _same(record: Record, stored: Record) -> bool:
    return all(name in stored and _canonical(stored[name]) == _canonical(value) for name, value in record.items())


def _identity(stored: Record) -> str:
    return _canonical(stored["id"]) if "id" in stored else _canonical(stored)


def _newest(matches: list[Record]) -> Record:
    # Several identical records: the one with the highest id is the latest (Robostack ids are numbers).
    ids = [record.get("id") for record in matches]
    if all(isinstance(value, int) and not isinstance(value, bool) for value in ids):
        return max(matches, key=lambda record: record["id"])
    return matches[-1]


def _canonical(value: Any) -> str:
    # True and 1 are equal in Python but not in JSON: compare the JSON.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
