"""`connectors webhooks serve` end to end with the sandbox: it signs and delivers Robaws events and Control
Room run events; the receiver verifies them, stores them once and hands each off exactly once, as an input
work item or as a Control Room process run (`--process`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from receiver_support import ReceiverProcess

from Connectors import ControlRoomClient, RobawsClient
from Connectors.core.webhooks import sign_timestamped
from connectors_sandbox.server import SandboxProcess


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def vendor_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.split("_", 1)[0] in ("ROBAWS", "CONTROLROOM")}


@pytest.fixture
def robaws_hook(sandbox: SandboxProcess, tmp_path: Path) -> Iterator[tuple[RobawsClient, str, ReceiverProcess]]:
    """A Robaws webhook registered at a receiver's URL (the receiver is created, not started)."""
    robaws = RobawsClient()
    placeholder = ReceiverProcess(tmp_path, [], {})
    hook = robaws.register_webhook(f"{placeholder.url}/webhooks/robaws", ["client.created"])
    secret = getattr(hook["secret"], "value", hook["secret"])
    yield robaws, secret, placeholder
    placeholder.stop()


def status(store: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "Connectors", "webhooks", "status", "--store", str(store), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout))


def test_sandbox_deliveries_become_work_items_once(
    robaws_hook: tuple[RobawsClient, str, ReceiverProcess], tmp_path: Path
) -> None:
    robaws, secret, receiver = robaws_hook
    out = tmp_path / "out"
    receiver.args += ["--work-items", str(out)]
    receiver.env.update({"ROBAWS_WEBHOOK_SECRET": secret})
    receiver.start().wait_up()
    robaws.create_client({"name": "Webhook Test NV"})
    compacted = out / "work-items.json"
    wait_for(lambda: compacted.exists() and len(json.loads(compacted.read_text())) == 1)
    item = json.loads(compacted.read_text())[0]["payload"]
    assert item["source"] == "robaws" and item["event"] == "client.created"
    assert item["data"]["name"] == "Webhook Test NV"
    # A redelivery of the same event (vendors deliver at least once) is acknowledged, not handed off again.
    body = json.dumps({"id": item["id"], "event": "client.created", "data": item["data"]}).encode()
    again = requests.post(
        f"{receiver.url}/webhooks/robaws",
        data=body,
        headers={"Robaws-Signature": sign_timestamped(secret, body)},
        timeout=10,
    )
    assert again.json() == {"duplicate": True, "id": item["id"]}
    forged = requests.post(
        f"{receiver.url}/webhooks/robaws",
        data=body,
        headers={"Robaws-Signature": sign_timestamped("not-the-secret", body)},
        timeout=10,
    )
    assert forged.status_code == 401
    assert receiver.stop() == 0
    assert len(json.loads(compacted.read_text())) == 1 and len(list((out / "work-items").iterdir())) == 1
    report = status(receiver.store)
    assert report["counts"]["handed_off"] == 1 and report["last"][0]["target"].startswith("work-items/")
    assert secret not in receiver.stderr()


def test_serve_process_starts_one_run_per_event(
    sandbox: SandboxProcess, robaws_hook: tuple[RobawsClient, str, ReceiverProcess]
) -> None:
    robaws, secret, receiver = robaws_hook
    controlroom = ControlRoomClient()
    process = "Invoice Processing"
    receiver.args += ["--process", process]
    receiver.env.update({**vendor_env(), "ROBAWS_WEBHOOK_SECRET": secret})
    receiver.start().wait_up()
    robaws.create_client({"name": "Run Per Event BV"})

    def runs_for_webhooks() -> list[dict[str, Any]]:
        return [
            item
            for item in controlroom.list_work_items(process=process, include_data=True)
            if isinstance(item.get("payload"), dict) and item["payload"].get("source") == "robaws"
        ]

    (item,) = wait_for(runs_for_webhooks)
    payload = item["payload"]
    assert payload["event"] == "client.created" and payload["data"]["name"] == "Run Per Event BV"
    run = controlroom.get_run(item["process_run"]["id"])
    assert run["process"]["name"] == process
    # The same event delivered again starts nothing.
    body = json.dumps({"id": payload["id"], "event": "client.created", "data": payload["data"]}).encode()
    again = requests.post(
        f"{receiver.url}/webhooks/robaws", data=body, headers={"Robaws-Signature": sign_timestamped(secret, body)}
    )
    assert again.json()["duplicate"] is True
    wait_for(lambda: receiver.health()["events"]["handed_off"] == 1)
    assert receiver.stop() == 0
    assert len(runs_for_webhooks()) == 1
    (event,) = status(receiver.store)["last"]
    assert event["state"] == "handed_off" and event["target"] == f"run {run['id']}"


def test_serve_process_refuses_an_unknown_process_at_start(sandbox: SandboxProcess, tmp_path: Path) -> None:
    receiver = ReceiverProcess(
        tmp_path, ["--process", "No Such Process"], {**vendor_env(), "ROBAWS_WEBHOOK_SECRET": "s"}
    )
    receiver.start()
    assert receiver.process is not None and receiver.process.wait(60) == 2
    (line,) = receiver.stderr().strip().splitlines()
    assert line.startswith("error: ") and "No Such Process" in line and "Traceback" not in line


def test_controlroom_run_events_are_verified_and_handed_off(sandbox: SandboxProcess, tmp_path: Path) -> None:
    out = tmp_path / "out"
    receiver = ReceiverProcess(tmp_path, ["--work-items", str(out)], vendor_env())
    receiver.start().wait_up()
    sandbox.admin("POST", "/_sandbox/controlroom/config", {"webhook_url": f"{receiver.url}/webhooks/controlroom"})
    run = ControlRoomClient().trigger_run("Invoice Processing", {"invoice": "INV-9"})
    compacted = out / "work-items.json"

    def delivered() -> list[dict[str, Any]]:
        if not compacted.exists():
            return []
        items = [i["payload"] for i in json.loads(compacted.read_text()) if i["payload"]["source"] == "controlroom"]
        return [p for p in items if p["data"].get("processRunId") == run["id"]]

    (payload,) = wait_for(delivered, timeout=60)
    assert payload["event"] and payload["id"]
    assert receiver.stop() == 0
    assert "Refused" not in receiver.stderr()
