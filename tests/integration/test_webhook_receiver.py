"""`connectors webhooks serve` end to end: the sandbox signs and delivers Robaws events, the receiver
verifies them, stores them once and turns them into input work items."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import requests

from Connectors import RobawsClient
from Connectors.sandbox.server import SandboxProcess, free_port


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_sandbox_deliveries_become_work_items_once(sandbox: SandboxProcess, tmp_path: Path) -> None:
    robaws = RobawsClient()
    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}"
    webhook = robaws.register_webhook(f"{receiver_url}/webhooks/robaws", ["client.created"])
    secret = getattr(webhook["secret"], "value", webhook["secret"])
    work_items = tmp_path / "work-items.json"
    env = {"ROBAWS_WEBHOOK_SECRET": secret, "PATH": "", "PYTHONPATH": ":".join(sys.path)}
    receiver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "Connectors",
            "webhooks",
            "serve",
            "--port",
            str(port),
            "--store",
            str(tmp_path / "events.db"),
            "--work-items",
            str(work_items),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert wait_for(lambda: _up(receiver_url)), "the receiver did not start"
        robaws.create_client({"name": "Webhook Test NV"})
        assert wait_for(lambda: work_items.exists() and len(json.loads(work_items.read_text())) == 1)
        item = json.loads(work_items.read_text())[0]["payload"]
        assert item["event"] == "client.created" and item["data"]["name"] == "Webhook Test NV"
        # A redelivery of the same event (vendors deliver at least once) is acknowledged, not repeated.
        body = json.dumps({"id": item["id"], "event": "client.created", "data": item["data"]}).encode()
        from Connectors.core.webhooks import sign_timestamped

        again = requests.post(
            f"{receiver_url}/webhooks/robaws",
            data=body,
            headers={"Robaws-Signature": sign_timestamped(secret, body)},
            timeout=10,
        )
        assert again.json() == {"duplicate": True, "id": item["id"]}
        forged = requests.post(
            f"{receiver_url}/webhooks/robaws",
            data=body,
            headers={"Robaws-Signature": sign_timestamped("not-the-secret", body)},
            timeout=10,
        )
        assert forged.status_code == 401
        assert len(json.loads(work_items.read_text())) == 1
    finally:
        receiver.terminate()
        _, err = receiver.communicate(timeout=10)
    assert secret.encode() not in err


def _up(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False
