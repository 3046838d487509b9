"""The webhook receiver verifies, stores, de-duplicates and hands events off without losing any."""

from __future__ import annotations

import json
import time
from pathlib import Path

from Connectors.core.errors import TransportError
from Connectors.core.webhooks import sign_body, sign_timestamped
from Connectors.receiver import EventStore, Receiver, WorkItemSink, controlroom_source, robaws_source


def robaws_delivery(secret: str, event_id: str, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": event_id, "event": "client.updated", "data": {"id": 1001}}).encode()
    return body, {"robaws-signature": sign_timestamped(secret, body, timestamp)}


def test_verified_events_become_work_items_once(tmp_path: Path) -> None:
    sink = WorkItemSink(tmp_path / "items")
    receiver = Receiver(EventStore(tmp_path / "events.db"), [robaws_source("whsec-1")], sink)
    body, headers = robaws_delivery("whsec-1", "evt-1")
    assert receiver.handle("robaws", body, headers) == (200, {"accepted": True, "id": "evt-1"})
    assert receiver.handle("robaws", body, headers) == (200, {"duplicate": True, "id": "evt-1"})
    items = json.loads((tmp_path / "items" / "work-items.json").read_text())
    assert [item["payload"]["id"] for item in items] == ["evt-1"]
    assert items[0]["payload"]["event"] == "client.updated"


def test_bad_signature_old_timestamp_and_unknown_source_are_refused(tmp_path: Path) -> None:
    receiver = Receiver(
        EventStore(tmp_path / "e.db"),
        [robaws_source("whsec-1"), controlroom_source("cr-1")],
        WorkItemSink(tmp_path / "i"),
    )
    body, headers = robaws_delivery("wrong-secret", "evt-2")
    status, answer = receiver.handle("robaws", body, headers)
    assert status == 401 and "does not match" in answer["error"]
    body, headers = robaws_delivery("whsec-1", "evt-3", timestamp=int(time.time()) - 3600)
    assert receiver.handle("robaws", body, headers)[0] == 401
    assert receiver.handle("cobot", b"{}", {})[0] == 404
    cr_body = json.dumps({"id": "cr-evt", "event": "process_run.completed", "payload": {}}).encode()
    assert receiver.handle("controlroom", cr_body, {"x-rc-signature": sign_body("cr-1", cr_body)})[0] == 200
    assert receiver.store.count() == 1


def test_failed_hand_off_is_retried_on_the_next_delivery(tmp_path: Path) -> None:
    handed: list[str] = []
    fail = {"on": True}

    def sink(source: str, event: dict) -> None:
        if fail["on"]:
            raise TransportError("Control Room is down")
        handed.append(event["id"])

    receiver = Receiver(EventStore(tmp_path / "e.db"), [robaws_source("s")], sink)
    first, headers = robaws_delivery("s", "evt-a")
    assert receiver.handle("robaws", first, headers)[0] == 200  # stored, hand-off failed
    fail["on"] = False
    second, headers = robaws_delivery("s", "evt-b")
    receiver.handle("robaws", second, headers)
    assert handed == ["evt-a", "evt-b"]
