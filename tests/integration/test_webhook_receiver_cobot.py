"""Cobot webhooks end to end: the sandbox's Cobot delivers ``{"url": …}`` to ``connectors webhooks serve`` at
``/webhooks/cobot/<token>``; the receiver reads the resource with the configured Cobot credentials and hands
each delivery off as one work item; a dropped token answers 410 Gone and Cobot deactivates the subscription."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from receiver_support import ReceiverProcess

from Connectors import CobotClient
from connectors_sandbox.server import SandboxProcess

pytestmark = pytest.mark.timeout(180)
TOKEN = "cobot-receiver-token-0123456789"
NEW_TOKEN = "cobot-receiver-token-abcdefghij"


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def cobot_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("COBOT_") and k != "COBOT_SPACE"}


def items(out: Path) -> list[dict[str, Any]]:
    return [json.loads(f.read_text())[0]["payload"] for f in sorted((out / "work-items").glob("*.json"))]


def test_cobot_deliveries_become_work_items_with_their_resource(sandbox: SandboxProcess, tmp_path: Path) -> None:
    sandbox.configure(rate_scale=30)
    out = tmp_path / "out"
    receiver = ReceiverProcess(
        tmp_path, ["--work-items", str(out)], {**cobot_env(), "COBOT_WEBHOOK_TOKEN": TOKEN, "COBOT_RATE_SCALE": "30"}
    )
    receiver.start().wait_up()
    try:
        with CobotClient(rate_scale=30) as cobot:
            subscription = cobot.subscribe_webhook("created_booking", f"{receiver.url}/webhooks/cobot/{TOKEN}")
            room = cobot.list_resources()[0]
            start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=40)
            booking = cobot.create_booking(room["id"], start.isoformat(), (start + timedelta(hours=1)).isoformat())
            (item,) = wait_for(lambda: items(out))
            assert item["source"] == "cobot" and item["event"] == "cobot.delivery"
            assert item["data"]["url"].endswith(f"/api/bookings/{booking['id']}")
            assert item["data"]["resource"]["id"] == booking["id"]  # read with the receiver's Cobot token

            # Rotate: a new token's subscription, the old one dropped; its next delivery is a 410 Gone and
            # Cobot deactivates it at once.
            receiver.stop()
            receiver.env.update(COBOT_WEBHOOK_TOKEN=NEW_TOKEN, COBOT_WEBHOOK_DROPPED_TOKENS=TOKEN)
            receiver.start().wait_up()
            cobot.subscribe_webhook("created_booking", f"{receiver.url}/webhooks/cobot/{NEW_TOKEN}")
            later = start + timedelta(days=1)
            cobot.create_booking(room["id"], later.isoformat(), (later + timedelta(hours=1)).isoformat())
            wait_for(lambda: len(items(out)) == 2)

            def dropped() -> Any:
                found = [s for s in cobot.list_webhook_subscriptions() if s["id"] == subscription["id"]]
                return found[0] if found and not found[0]["active"] else None

            old = wait_for(dropped)
            assert old["active"] is False
            deliveries = sandbox.admin("GET", "/_sandbox/webhook-deliveries")
            assert sorted(d["status"] for d in deliveries) == [200, 200, 410]
    finally:
        receiver.stop()
    assert TOKEN not in receiver.stderr() and NEW_TOKEN not in receiver.stderr()
