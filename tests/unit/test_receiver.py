"""The webhook receiver verifies, stores, de-duplicates and hands events off exactly once."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from Connectors.cli import main
from Connectors.core.errors import ConfigurationError, TransportError, ValidationError
from Connectors.core.webhooks import sign_body, sign_timestamped
from Connectors.webhooks.dispatcher import Dispatcher, Transient
from Connectors.webhooks.receiver import Receiver
from Connectors.webhooks.service import ReceiverSettings, _lock, build_receiver
from Connectors.webhooks.sinks import ControlRoomRuns, WorkItemFolder
from Connectors.webhooks.sources import controlroom_source, robaws_source
from Connectors.webhooks.store import FAILED, HANDED_OFF, HANDING_OFF, EventStore


def robaws_delivery(secret: str, event_id: str, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": event_id, "event": "client.updated", "data": {"id": 1001}}).encode()
    return body, {"Robaws-Signature": sign_timestamped(secret, body, timestamp)}


def make_receiver(tmp_path: Path, sink: Any = None, **kwargs: Any) -> Receiver:
    store = EventStore(tmp_path / "events.db")
    sink = sink or WorkItemFolder(tmp_path / "out")
    sink.prepare()
    sources = {s.name: s for s in (robaws_source("whsec-1"), controlroom_source("cr-1"))}
    return Receiver(store, sources, Dispatcher(store, sink), **kwargs)


def items_of(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())


def test_verified_events_become_work_items_once(tmp_path: Path) -> None:
    receiver = make_receiver(tmp_path)
    body, headers = robaws_delivery("whsec-1", "evt-1")
    assert receiver.handle("robaws", body, headers) == (200, {"accepted": True, "id": "evt-1"})
    assert receiver.handle("robaws", body, headers) == (200, {"duplicate": True, "id": "evt-1"})
    receiver.dispatcher.run_once()
    receiver.dispatcher.sink.flush(force=True)
    files = sorted((tmp_path / "out" / "work-items").glob("*.json"))
    assert [f.name for f in files] == ["000000001-robaws-evt-1.json"]
    # Each file is a FileAdapter input file of one item; work-items.json holds them all.
    (item,) = items_of(files[0])
    assert item["payload"]["id"] == "evt-1" and item["payload"]["event"] == "client.updated"
    assert item["payload"]["data"] == {"id": 1001} and item["files"] == {}
    assert items_of(tmp_path / "out" / "work-items.json") == [item]
    assert receiver.store.counts()[HANDED_OFF] == 1


def test_a_json_path_names_the_compacted_file_and_its_folder(tmp_path: Path) -> None:
    sink = WorkItemFolder(tmp_path / "inbox" / "events.json")
    receiver = make_receiver(tmp_path, sink)
    for n in range(3):
        receiver.handle("robaws", *robaws_delivery("whsec-1", f"e{n}"))
    receiver.dispatcher.run_once()
    sink.flush(force=True)
    assert [i["payload"]["id"] for i in items_of(tmp_path / "inbox" / "events.json")] == ["e0", "e1", "e2"]
    assert len(list((tmp_path / "inbox" / "events").glob("*.json"))) == 3


def test_ids_that_are_not_file_names_are_hashed(tmp_path: Path) -> None:
    receiver = make_receiver(tmp_path)
    receiver.handle("robaws", *robaws_delivery("whsec-1", "../../etc/passwd"))
    receiver.dispatcher.run_once()
    (only,) = (tmp_path / "out" / "work-items").iterdir()
    assert only.name.startswith("000000001-robaws-") and "/" not in only.name and ".." not in only.name
    assert items_of(only)[0]["payload"]["id"] == "../../etc/passwd"


def test_refusals_are_fixed_sentences(tmp_path: Path) -> None:
    receiver = make_receiver(tmp_path)
    body, headers = robaws_delivery("wrong-secret", "evt-2")
    assert receiver.handle("robaws", body, headers) == (
        401,
        {"error": "The webhook signature does not match the body."},
    )
    body, headers = robaws_delivery("whsec-1", "evt-3", timestamp=int(time.time()) - 3600)
    status, answer = receiver.handle("robaws", body, headers)
    assert status == 401 and "beyond the 300 s tolerance" in answer["error"]
    assert receiver.handle("cobot<script>", b"{}", {}) == (404, {"error": "unknown webhook source"})
    assert receiver.handle("robaws", body, {})[0] == 401  # unsigned
    signed = lambda raw: {"Robaws-Signature": sign_timestamped("whsec-1", raw)}  # noqa: E731
    assert receiver.handle("robaws", b"not json", signed(b"not json"))[0] == 400
    assert receiver.handle("robaws", b"[1]", signed(b"[1]"))[0] == 400
    assert receiver.handle("robaws", b'{"event": "x"}', signed(b'{"event": "x"}'))[0] == 400
    assert receiver.handle("robaws", b'{"id": true}', signed(b'{"id": true}'))[0] == 400
    assert receiver.store.count() == 0


@pytest.mark.parametrize(
    "header",
    [
        "t=abc,v1=" + "0" * 64,
        "t=1,v1=zz",
        "t=,v1=",
        "v1=" + "0" * 64,
        "t=1700000000",
        "t=1,t=2,v1=" + "0" * 64,
        "t=1\u00e9,v1=" + "0" * 64,
        "t=1;v1=" + "0" * 64,
        "garbage",
        ",,,",
        "t=1," + ",".join(["v1=" + "0" * 64] * 9),
        "t=99999999999999999999,v1=" + "0" * 64,
        "t=1,v1=" + "0" * 64 + "\x00",
    ],
)
def test_malformed_robaws_headers_are_400(tmp_path: Path, header: str) -> None:
    receiver = make_receiver(tmp_path)
    status, answer = receiver.handle("robaws", b'{"id": "x"}', {"Robaws-Signature": header})
    assert status == 400, answer
    assert header not in answer["error"] and "\u00e9" not in answer["error"]


@pytest.mark.parametrize("header", ["abc", "0" * 63, "sha256=" + "g" * 64, "\u00ff" * 64, "0" * 64 + " x"])
def test_malformed_controlroom_headers_are_400(tmp_path: Path, header: str) -> None:
    receiver = make_receiver(tmp_path)
    assert receiver.handle("controlroom", b'{"id": "x"}', {"x-rc-signature": header})[0] == 400


def test_controlroom_events_are_verified_and_deduplicated_on_their_id(tmp_path: Path) -> None:
    receiver = make_receiver(tmp_path)
    event = {
        "id": "9d0c1a3e-cr",
        "webhookEventTimestamp": "2024-01-01T00:00:00Z",
        "event": "process_run.completed",
        "payload": {"workspaceId": "ws", "processRunId": "run-1"},
    }
    body = json.dumps(event).encode()
    headers = {"x-rc-signature": sign_body("cr-1", body)}
    assert receiver.handle("controlroom", body, headers) == (200, {"accepted": True, "id": "9d0c1a3e-cr"})
    # At least once: the same event again, even re-serialised, is acknowledged and not handed off.
    again = json.dumps(event, indent=1).encode()
    assert receiver.handle("controlroom", again, {"x-rc-signature": sign_body("cr-1", again)})[1]["duplicate"]
    assert receiver.handle("controlroom", body, {"x-rc-signature": sign_body("other", body)})[0] == 401
    receiver.dispatcher.run_once()
    (path,) = (tmp_path / "out" / "work-items").glob("*.json")
    payload = items_of(path)[0]["payload"]
    assert payload["event"] == "process_run.completed" and payload["data"]["processRunId"] == "run-1"


def test_body_over_the_limit_is_413(tmp_path: Path) -> None:
    receiver = make_receiver(tmp_path, max_body=100)
    body = json.dumps({"id": "big", "pad": "x" * 200}).encode()
    headers = {"Robaws-Signature": sign_timestamped("whsec-1", body)}
    assert receiver.handle("robaws", body, headers)[0] == 413
    assert receiver.handle("robaws", b"{}", {**headers, "Content-Length": "101"})[0] == 413


# -- exactly once across crashes ---------------------------------------------------------------------
def test_a_crash_between_writing_the_item_and_marking_it_does_not_duplicate(tmp_path: Path) -> None:
    receiver = make_receiver(tmp_path)
    receiver.handle("robaws", *robaws_delivery("whsec-1", "evt-x"))
    (event,) = receiver.store.open_events()
    # What the hand-off thread does, cut short after the write: intent, file, (killed before the mark).
    receiver.store.mark_intent(event.seq)
    receiver.dispatcher.sink.hand_off(event)
    receiver.store.close()
    restarted = make_receiver(tmp_path)
    assert restarted.store.open_events()[0].state == HANDING_OFF
    restarted.dispatcher.run_once()
    restarted.dispatcher.sink.flush(force=True)
    assert restarted.dispatcher.stats == {"handed_off": 0, "reconciled": 1, "failed": 0, "transient_errors": 0}
    assert len(list((tmp_path / "out" / "work-items").glob("*.json"))) == 1
    assert len(items_of(tmp_path / "out" / "work-items.json")) == 1


def test_a_crash_after_the_intent_but_before_the_write_hands_off_once(tmp_path: Path) -> None:
    receiver = make_receiver(tmp_path)
    receiver.handle("robaws", *robaws_delivery("whsec-1", "evt-y"))
    receiver.store.mark_intent(receiver.store.open_events()[0].seq)
    # A temporary file left by a write cut short is swept away at start.
    (tmp_path / "out" / "work-items" / ".tmp-1-000000001-robaws-evt-y.json").write_text("[")
    receiver.store.close()
    restarted = make_receiver(tmp_path)
    restarted.dispatcher.run_once()
    assert [p.name for p in (tmp_path / "out" / "work-items").iterdir()] == ["000000001-robaws-evt-y.json"]
    assert restarted.dispatcher.stats["handed_off"] == 1


class FakeControlRoom:
    """Records runs; its work items carry the payloads, like Control Room's with_payloads start."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.fail_next: Exception | None = None
        self.fail_after_start = False
        self.listings = 0

    def resolve_process(self, process: str) -> str:
        if process != "Invoice Processing":
            raise ConfigurationError(f"No Control Room process {process!r}.")
        return "pid-1"

    def trigger_run(self, process: str, payload: Any) -> dict[str, Any]:
        if self.fail_next and not self.fail_after_start:
            error, self.fail_next = self.fail_next, None
            raise error
        run_id = f"run-{len(self.items) + 1}"
        created = datetime.now(timezone.utc).isoformat()
        self.items.append(
            {"id": f"wi-{run_id}", "payload": payload, "process_run": {"id": run_id}, "created_at": created}
        )
        if self.fail_next:
            error, self.fail_next = self.fail_next, None
            raise error  # started, but the answer (or its read-back) was lost
        return {"id": run_id}

    def list_work_items(self, process: str, include_data: bool = False, limit: int | None = None) -> Any:
        """Like Control Room's list: without payloads unless asked (then each item is read)."""
        self.listings += 1
        rows = list(self.items)[:limit]
        return iter(rows if include_data else [{k: v for k, v in i.items() if k != "payload"} for i in rows])

    def get_work_item(self, item_id: str) -> dict[str, Any]:
        return next(dict(item) for item in self.items if item["id"] == item_id)


def runs_per_event(client: FakeControlRoom) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in client.items:
        counts[item["payload"]["id"]] = counts.get(item["payload"]["id"], 0) + 1
    return counts


def test_process_runs_crash_after_the_trigger_is_reconciled(tmp_path: Path) -> None:
    client = FakeControlRoom()
    receiver = make_receiver(tmp_path, ControlRoomRuns("Invoice Processing", client))
    receiver.handle("robaws", *robaws_delivery("whsec-1", "evt-1"))
    receiver.handle("robaws", *robaws_delivery("whsec-1", "evt-2"))
    first = receiver.store.open_events()[0]
    receiver.store.mark_intent(first.seq)
    receiver.dispatcher.sink.hand_off(first)  # the run starts; the receiver is killed before the mark
    receiver.store.close()
    restarted = make_receiver(tmp_path, ControlRoomRuns("Invoice Processing", client))
    restarted.dispatcher.run_once()
    assert runs_per_event(client) == {"evt-1": 1, "evt-2": 1}
    assert [(e.state, e.target) for e in restarted.store.all()] == [
        (HANDED_OFF, "run run-1"),
        (HANDED_OFF, "run run-2"),
    ]


def test_a_lost_answer_is_looked_for_before_triggering_again(tmp_path: Path) -> None:
    client = FakeControlRoom()
    receiver = make_receiver(tmp_path, ControlRoomRuns("Invoice Processing", client))
    receiver.handle("robaws", *robaws_delivery("whsec-1", "evt-1"))
    client.fail_next, client.fail_after_start = TransportError("Control Room: the answer was lost"), True
    with pytest.raises(Transient):
        receiver.dispatcher.run_once()
    assert str(receiver.store.open_events()[0].error).startswith("Control Room: the answer was lost.")
    receiver.dispatcher.run_once()
    assert runs_per_event(client) == {"evt-1": 1}
    assert receiver.dispatcher.stats["reconciled"] == 1


def test_an_outage_postpones_and_a_refusal_fails_until_retried(tmp_path: Path) -> None:
    client = FakeControlRoom()
    receiver = make_receiver(tmp_path, ControlRoomRuns("Invoice Processing", client))
    receiver.handle("robaws", *robaws_delivery("whsec-1", "evt-1"))
    client.fail_next = TransportError("Control Room is down")
    with pytest.raises(Transient):
        receiver.dispatcher.run_once()
    assert runs_per_event(client) == {}
    receiver.dispatcher.run_once()
    assert runs_per_event(client) == {"evt-1": 1}
    receiver.handle("robaws", *robaws_delivery("whsec-1", "evt-2"))
    client.fail_next = ValidationError("Control Room started no run.")
    receiver.dispatcher.run_once()
    failed = receiver.store.all()[-1]
    assert failed.state == FAILED and str(failed.error).startswith("Control Room started no run.")
    assert main(["webhooks", "retry", "--store", str(tmp_path / "events.db")]) == 0
    receiver.dispatcher.run_once()
    assert runs_per_event(client) == {"evt-1": 1, "evt-2": 1}


def test_an_unknown_process_fails_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBAWS_WEBHOOK_SECRET", "s")
    settings = ReceiverSettings(store=str(tmp_path / "e.db"), process="Nope")
    with pytest.raises(ConfigurationError, match="No Control Room process"):
        build_receiver(settings, ControlRoomRuns("Nope", FakeControlRoom()))


def test_no_secret_and_no_target_are_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ROBAWS_WEBHOOK_SECRET", "CONTROLROOM_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="No webhook secret"):
        build_receiver(ReceiverSettings(store=str(tmp_path / "e.db"), work_items=str(tmp_path)))
    monkeypatch.setenv("ROBAWS_WEBHOOK_SECRET", "s")
    with pytest.raises(ConfigurationError, match="Nowhere to hand events to"):
        build_receiver(ReceiverSettings(store=str(tmp_path / "e.db")))


def test_one_receiver_per_store(tmp_path: Path) -> None:
    lock = _lock(str(tmp_path / "e.db"))
    try:
        with pytest.raises(ConfigurationError, match="Another receiver is using the store"):
            _lock(str(tmp_path / "e.db"))
    finally:
        lock.release()


def test_status_counts_and_lists_the_last_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    receiver = make_receiver(tmp_path)
    for n in range(4):
        receiver.handle("robaws", *robaws_delivery("whsec-1", f"evt-{n}"))
    receiver.dispatcher.run_once()
    receiver.handle("robaws", *robaws_delivery("whsec-1", "evt-late"))
    store = str(tmp_path / "events.db")
    assert main(["webhooks", "status", "--store", store, "--last", "2"]) == 0
    text = capsys.readouterr().out
    assert "5 events: 1 received, 0 handing off, 4 handed off, 0 failed" in text
    assert "evt-3" in text and "evt-late" in text and "evt-0" not in text
    assert main(["webhooks", "status", "--store", store, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["handed_off"] == 4 and report["last"][-1]["state"] == "received"
    assert main(["webhooks", "status", "--store", str(tmp_path / "missing.db")]) == 2
    assert "No event store at" in capsys.readouterr().err


def test_the_store_of_earlier_versions_is_carried_over(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE events (source TEXT NOT NULL, id TEXT NOT NULL, received_at REAL NOT NULL,"
        " body TEXT NOT NULL, dispatched INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (source, id))"
    )
    db.execute("INSERT INTO events VALUES ('robaws', 'a', 1, '{\"id\": \"a\"}', 1)")
    db.execute("INSERT INTO events VALUES ('robaws', 'b', 2, '{\"id\": \"b\"}', 0)")
    db.commit()
    db.close()
    store = EventStore(path)
    assert [(e.id, e.state) for e in store.all()] == [("a", HANDED_OFF), ("b", HANDING_OFF)]
    assert store.add("robaws", "a", b"{}") is False


@pytest.mark.peers
def test_robot_framework_file_adapter_reads_the_items(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work_items = pytest.importorskip("RPA.Robocorp.WorkItems")
    receiver = make_receiver(tmp_path)
    for n in range(3):
        receiver.handle("robaws", *robaws_delivery("whsec-1", f"evt-{n}"))
    receiver.dispatcher.run_once()
    receiver.dispatcher.sink.flush(force=True)
    monkeypatch.setenv("RPA_INPUT_WORKITEM_PATH", str(tmp_path / "out" / "work-items.json"))
    monkeypatch.setenv("RPA_OUTPUT_WORKITEM_PATH", str(tmp_path / "output.json"))
    adapter = work_items.FileAdapter()
    seen = []
    while True:
        try:
            item_id = adapter.reserve_input()
        except Exception:  # the adapter's own "no more items" signal differs between versions
            break
        seen.append(adapter.load_payload(item_id)["id"])
        adapter.release_input(item_id, work_items.State.DONE)
    assert seen == ["evt-0", "evt-1", "evt-2"]


def test_a_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sys

    from Connectors.webhooks.service import serve

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the [sandbox] extra were not installed
    with pytest.raises(ConfigurationError, match=r"pip install 'robotframework-connectors\[sandbox\]'"):
        serve(ReceiverSettings(store=str(tmp_path / "e.db"), work_items=str(tmp_path)), "127.0.0.1", 0)
