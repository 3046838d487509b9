"""The receiver's decisions, free of HTTP: which source, is the header acceptable, is the body signed,
is the event new. Every refusal is a fixed sentence: nothing an attacker sent is echoed or logged.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from Connectors.core import log
from Connectors.core.webhooks import MalformedSignature, SignatureError
from Connectors.webhooks.dispatcher import Dispatcher
from Connectors.webhooks.sources import Source
from Connectors.webhooks.store import EventStore

DEFAULT_MAX_BODY = 1024 * 1024
MAX_EVENT_ID = 200


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Receiver:
    store: EventStore
    sources: dict[str, Source]
    dispatcher: Dispatcher
    max_body: int = DEFAULT_MAX_BODY
    # Source name → what turns its verified delivery into the event to store (raises Refused to refuse it).
    transforms: dict[str, Callable[[bytes], bytes]] = field(default_factory=dict)
    stats: dict[str, int] = field(
        default_factory=lambda: {"accepted": 0, "duplicates": 0, "refused": 0, "store_errors": 0}
    )

    # -- before the body ---------------------------------------------------------------------------
    def precheck(self, source_name: str, headers: Mapping[str, str]) -> tuple[Source, Any]:
        """The source and its parsed signature header, or ``Refused`` (404, 413, 400, 401)."""
        source = self.sources.get(source_name)
        if source is None:
            raise self.refuse(404, "unknown webhook source", None)
        length = headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > self.max_body:
            raise self.refuse(413, f"the body is larger than {self.max_body} bytes", source)
        try:
            return source, source.precheck(headers.get(source.header))
        except MalformedSignature as error:
            raise self.refuse(400, error.message, source)
        except SignatureError as error:
            # A source may refuse with its own 4xx (Cobot: 410 Gone for a dropped subscription).
            status = error.status if isinstance(error.status, int) and 400 <= error.status < 500 else 401
            raise self.refuse(status, error.message, source)

    # -- with the body -----------------------------------------------------------------------------
    def accept(self, source: Source, parsed: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        """Verify, de-duplicate and store; 200 once the event is on disk (new or not)."""
        if len(body) > self.max_body:
            raise self.refuse(413, f"the body is larger than {self.max_body} bytes", source)
        try:
            source.verify(body, parsed)
        except SignatureError as error:
            raise self.refuse(401, error.message, source)
        transform = self.transforms.get(source.name)
        if transform is not None:
            # A source without event ids or signatures checks and completes the body here (Cobot: webhooks/cobot.py).
            try:
                body = transform(body)
            except Refused as refusal:
                raise self.refuse(refusal.status, refusal.reason, source) from None
        event_id = _event_id(body)
        if event_id is None:
            raise self.refuse(400, "the body is not a JSON object with an event id", source)
        try:
            added = self.store.add(source.name, event_id, body)
        except (sqlite3.Error, OSError) as error:
            self.stats["store_errors"] += 1
            log.info(f"Could not store a {source.name} event: {type(error).__name__}")
            raise Refused(503, "the event could not be stored; deliver it again later")
        if not added:
            self.stats["duplicates"] += 1
            return 200, {"duplicate": True, "id": event_id}
        self.stats["accepted"] += 1
        self.dispatcher.wake()
        return 200, {"accepted": True, "id": event_id}

    def handle(self, source_name: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """Both steps at once (the HTTP app runs them apart, to refuse before it reads the body)."""
        lowered = {name.lower(): value for name, value in headers.items()}
        try:
            source, parsed = self.precheck(source_name, lowered)
            return self.accept(source, parsed, body)
        except Refused as refusal:
            return refusal.status, {"error": refusal.reason}

    def refuse(self, status: int, reason: str, source: Source | None) -> Refused:
        self.stats["refused"] += 1
        where = f"/webhooks/{source.name}" if source else "an unknown source"
        log.info(f"Refused a delivery to {where} ({status}): {reason}")
        return Refused(status, reason)

    def health(self) -> dict[str, Any]:
        return {"events": self.store.counts(), **self.stats}


def _event_id(body: bytes) -> str | None:
    """The event's ``id`` (both vendors put their unique, at-least-once event id there)."""
    try:
        event = json.loads(body)
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    value = event.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    if not text or len(text) > MAX_EVENT_ID or not text.isprintable():
        return None
    return text
