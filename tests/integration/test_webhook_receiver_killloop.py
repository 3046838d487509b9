"""Exactly once across `kill -9`: vendors deliver signed events and retry until they get a 2xx while a loop
kills the receiver (SIGKILL) and starts it again. Every acknowledged event must be handed off exactly once:
one work item file per event (and one entry in work-items.json), or one Control Room run per event.

Sizes: RECEIVER_KILL_EVENTS (default 600), RECEIVER_KILL_EVENTS_PROCESS (default 120), RECEIVER_KILLS
(default 30), RECEIVER_FAULT_EVENTS (default 20, with Control Room faults and 5 kills).
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from receiver_support import ReceiverProcess, deliver_until_acknowledged, robaws_event

from Connectors import ControlRoomClient
from connectors_sandbox.server import SandboxProcess

SECRET = "whsec_kill_loop"


Delivery = Callable[[str], tuple[str, Callable[[], tuple[bytes, dict[str, str]]]]]


def kill_loop(
    receiver: ReceiverProcess,
    event_ids: list[str],
    kills: int,
    senders: int = 4,
    seed: int = 7,
    delivery: Delivery | None = None,
) -> dict[str, Any]:
    """Deliver every event while killing the receiver ``kills`` times; returns what the senders saw.

    Events are released in step with the kills (about len/kills per life of the receiver), so kills land
    while deliveries arrive and hand-offs run, not after the senders are done. One kill in five comes
    at a random instant of the start-up instead of after the receiver answers.
    """
    rng = random.Random(seed)
    acks: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    released = threading.Semaphore(0)
    failures: list[str] = []
    deadline = time.monotonic() + 900
    pending = list(event_ids)

    def sender() -> None:
        session = requests.Session()
        while True:
            released.acquire()
            with lock:
                if not pending:
                    return
                event_id = pending.pop(0)
            path, make = (delivery or robaws_delivery)(event_id)
            try:
                ack = deliver_until_acknowledged(f"{receiver.url}{path}", make, deadline, session)
            except AssertionError as error:
                failures.append(str(error))
                return
            with lock:
                acks[event_id] = ack

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    per_life = max(1, len(event_ids) // kills)
    receiver.start()
    done_kills = 0
    while done_kills < kills or len(acks) < len(event_ids):
        if failures:
            break
        for _ in range(per_life if done_kills < kills - 1 else len(event_ids)):
            released.release()
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0.0, 1.0))  # somewhere in the start-up (imports, store, sweep, compaction)
        else:
            receiver.wait_up()
            time.sleep(rng.uniform(0.0, 0.5))
        if done_kills < kills:
            receiver.kill9()
            done_kills += 1
            receiver.start()
        else:
            time.sleep(0.2)
    for _ in threads:
        released.release()
    for thread in threads:
        thread.join(60)
    assert not failures, failures[:3]
    return {"acks": acks, "kills": done_kills}


def robaws_delivery(event_id: str) -> tuple[str, Callable[[], tuple[bytes, dict[str, str]]]]:
    return "/webhooks/robaws", robaws_event(SECRET, event_id)


COBOT_TOKEN = "cobot-kill-loop-token-0123456789"
COBOT_URL = "http://127.0.0.1:9/cobot"  # never contacted: without Cobot credentials the url is only checked


def mixed_delivery(event_id: str) -> tuple[str, Callable[[], tuple[bytes, dict[str, str]]]]:
    """Robaws events (signed, with ids) and Cobot deliveries (``{"url"}``, no id) in one stream."""
    if not event_id.startswith("cobot-"):
        return robaws_delivery(event_id)
    body = json.dumps({"url": f"{COBOT_URL}/spaces/demo/api/bookings/{event_id}"}).encode()
    return f"/webhooks/cobot/{COBOT_TOKEN}", lambda: (body, {"Content-Type": "application/json"})


def reconciled(stderr: str) -> int:
    return sum(int(n) for n in re.findall(r"(\d+) found handed off already", stderr))


@pytest.mark.timeout(900)
def test_kill_loop_work_items(tmp_path: Path) -> None:
    total = int(os.environ.get("RECEIVER_KILL_EVENTS", "600"))
    kills = int(os.environ.get("RECEIVER_KILLS", "30"))
    out = tmp_path / "out"
    receiver = ReceiverProcess(tmp_path, ["--work-items", str(out)], {"ROBAWS_WEBHOOK_SECRET": SECRET})
    event_ids = [f"evt-{n:05d}" for n in range(total)]
    started = time.monotonic()
    seen = kill_loop(receiver, event_ids, kills)
    health = receiver.wait_handed_off(total)
    assert receiver.stop() == 0
    elapsed = time.monotonic() - started

    assert set(seen["acks"]) == set(event_ids)  # every event acknowledged (senders retry until a 2xx)
    files = sorted((out / "work-items").glob("*.json"))
    per_event = Counter(json.loads(f.read_text())[0]["payload"]["id"] for f in files)
    compacted = Counter(item["payload"]["id"] for item in json.loads((out / "work-items.json").read_text()))
    lost = [e for e in event_ids if per_event[e] == 0]
    duplicated = [e for e, n in per_event.items() if n > 1]
    assert not lost and not duplicated, (lost[:5], duplicated[:5])
    assert compacted == per_event
    assert not list((out / "work-items").glob(".tmp-*"))
    assert health["events"] == {"received": 0, "handing_off": 0, "handed_off": total, "failed": 0}
    redelivered = sum(1 for ack in seen["acks"].values() if ack.get("duplicate"))
    retried = sum(ack["attempts"] - 1 for ack in seen["acks"].values())
    print(
        f"\nkill loop (work items): {total} events, {seen['kills']} kill -9, {receiver.starts} starts,"
        f" {len(files)} work items, lost 0, duplicated 0; {retried} delivery retries,"
        f" {redelivered} acknowledged as duplicates, {reconciled(receiver.stderr())} hand-offs found done"
        f" after a kill; {elapsed:.0f} s"
    )


def process_loop(tmp_path: Path, total: int, kills: int, faults: str = "") -> str:
    """Events to ``--process`` while the receiver is killed ``kills`` times and, with ``faults``, Control Room
    answers 5xx, resets connections and drops answers after starting the run; one summary line."""
    with SandboxProcess(demo=True, log_file=tmp_path / "sandbox.log") as sandbox:
        environment = sandbox.environment()
        process = next(iter(sandbox.admin("GET", "/_sandbox/config")["vendors"]["controlroom"]["processes"]))
        controlroom = {k: v for k, v in environment.items() if k.startswith("CONTROLROOM_")}
        # The sandbox's Control Room allows 50/s: let the receiver use it (its default is a polite 10/s).
        controlroom.update(CONTROLROOM_RATE_LIMIT="40/s", CONTROLROOM_RATE_BURST="40")
        receiver = ReceiverProcess(
            tmp_path,
            # Short pauses while Control Room keeps failing: the test's faults are far heavier than life.
            ["--process", process, "--max-backoff", "2"],
            {
                "ROBAWS_WEBHOOK_SECRET": SECRET,
                **controlroom,
                "CONTROLROOM_RATE_LIMIT": "40/s",
                "CONTROLROOM_RATE_BURST": "40",
            },
        )
        client = ControlRoomClient(
            controlroom["CONTROLROOM_WORKSPACE_ID"],
            controlroom["CONTROLROOM_API_KEY"],
            url=controlroom["CONTROLROOM_URL"],
        )
        runs_before = len(list(client.list_runs(process=process)))
        event_ids = [f"run-evt-{n:05d}" for n in range(total)]
        started = time.monotonic()
        if faults:
            sandbox.configure(faults=faults, seed=11)
        seen = kill_loop(receiver, event_ids, kills)
        health = receiver.wait_handed_off(total, timeout=600)
        assert receiver.stop() == 0
        injected = sandbox.stats().get("faults_injected", {})
        sandbox.configure(faults="")
        elapsed = time.monotonic() - started

        items = [
            item
            for item in client.list_work_items(process=process, include_data=True)
            if isinstance(item.get("payload"), dict) and item["payload"].get("source") == "robaws"
        ]
        per_event = Counter(item["payload"]["id"] for item in items)
        runs_per_event = Counter(
            item["payload"]["id"] for item in {item["process_run"]["id"]: item for item in items}.values()
        )
        runs_after = len(list(client.list_runs(process=process)))
    assert set(seen["acks"]) == set(event_ids)
    lost = [e for e in event_ids if per_event[e] == 0]
    duplicated = [e for e, n in per_event.items() if n > 1]
    assert not lost and not duplicated, (lost[:5], duplicated[:5])
    assert runs_per_event == per_event and runs_after - runs_before == total
    assert health["events"] == {"received": 0, "handing_off": 0, "handed_off": total, "failed": 0}
    redelivered = sum(1 for ack in seen["acks"].values() if ack.get("duplicate"))
    return (
        f"--process {process}{' with faults ' + faults if faults else ''}: {total} events, {seen['kills']} kill -9,"
        f" {runs_after - runs_before} runs, {len(items)} work items, lost 0, duplicated 0;"
        f" {redelivered} acknowledged as duplicates, {reconciled(receiver.stderr())} runs found started"
        f" after a kill or an unknown outcome{f', faults injected {injected}' if faults else ''}; {elapsed:.0f} s"
    )


@pytest.mark.timeout(900)
def test_kill_loop_process_runs(tmp_path: Path) -> None:
    total = int(os.environ.get("RECEIVER_KILL_EVENTS_PROCESS", "120"))
    kills = int(os.environ.get("RECEIVER_KILLS", "30"))
    print("\nkill loop " + process_loop(tmp_path, total, kills))


@pytest.mark.timeout(900)
def test_fault_matrix_process_runs(tmp_path: Path) -> None:
    """Heavy Control Room faults: 5xx and resets (nothing started), lost answers (the run started, the
    receiver does not know), plus kills; still one run per event."""
    total = int(os.environ.get("RECEIVER_FAULT_EVENTS", "20"))
    print("\nfault matrix " + process_loop(tmp_path, total, 5, faults="5xx=0.15,reset=0.1,lost=0.15"))


@pytest.mark.timeout(900)
def test_kill_loop_with_cobot_deliveries_mixed_in(tmp_path: Path) -> None:
    """Cobot sends no event id: the receiver gives each delivery one, and every acknowledged delivery must be
    exactly one work item. A delivery stored just before a kill, whose answer was lost, is delivered again
    (as Cobot would) and becomes a second item naming the same url - never more than the attempts."""
    total = int(os.environ.get("RECEIVER_KILL_EVENTS_COBOT", "200"))
    kills = int(os.environ.get("RECEIVER_KILLS_COBOT", "10"))
    out = tmp_path / "out"
    receiver = ReceiverProcess(
        tmp_path,
        ["--work-items", str(out)],
        {"ROBAWS_WEBHOOK_SECRET": SECRET, "COBOT_WEBHOOK_TOKEN": COBOT_TOKEN, "COBOT_URL": COBOT_URL},
    )
    event_ids = [f"{'cobot' if n % 2 else 'evt'}-{n:05d}" for n in range(total)]
    seen = kill_loop(receiver, event_ids, kills, delivery=mixed_delivery)
    assert set(seen["acks"]) == set(event_ids)
    cobot_keys = [e for e in event_ids if e.startswith("cobot-")]
    attempts = sum(seen["acks"][e]["attempts"] for e in cobot_keys)
    health = receiver.wait_handed_off(total)
    time.sleep(1.5)  # the compacted file is rebuilt at most once a second
    assert receiver.stop() == 0

    payloads = [json.loads(f.read_text())[0]["payload"] for f in sorted((out / "work-items").glob("*.json"))]
    per_id = Counter((p["source"], p["id"]) for p in payloads)
    assert max(per_id.values()) == 1  # no event or delivery handed off twice
    robaws = Counter(p["id"] for p in payloads if p["source"] == "robaws")
    assert robaws == Counter(e for e in event_ids if e.startswith("evt-"))
    cobot = [p for p in payloads if p["source"] == "cobot"]
    acked = {seen["acks"][e]["id"] for e in cobot_keys}
    assert acked <= {p["id"] for p in cobot}  # every acknowledged delivery is a work item...
    urls = Counter(p["data"]["url"].rsplit("/", 1)[1] for p in cobot)
    assert set(urls) == set(cobot_keys)  # ...naming its url
    assert len(cobot) <= attempts  # extra items only for deliveries whose answer a kill cut off
    compacted = Counter(
        (i["payload"]["source"], i["payload"]["id"]) for i in json.loads((out / "work-items.json").read_text())
    )
    assert compacted == per_id
    assert health["events"]["failed"] == 0
    print(
        f"\nkill loop with Cobot: {total} deliveries ({len(cobot_keys)} Cobot), {seen['kills']} kill -9, "
        f"{len(payloads)} work items; robaws lost 0, duplicated 0; Cobot: {len(acked)} acknowledged, each one item; "
        f"{len(cobot) - len(acked)} extra item(s) for deliveries stored before a kill cut off their answer"
    )
