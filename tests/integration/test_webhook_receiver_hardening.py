"""Hostile requests against `connectors webhooks serve`: malformed, forged, stale and oversized deliveries get
a 4xx with a fixed sentence, nothing the attacker sent reaches a response or the log, and a huge body is
never read beyond the size limit — measured on the receiver's memory (/proc/<pid>/status) while it arrives."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest
import requests
from receiver_support import ReceiverProcess, memory_kb

from Connectors.cli import build_parser
from Connectors.core.webhooks import sign_body, sign_timestamped

SECRET = "whsec_hardening"
CR_SECRET = "cr_hardening"
MARKER = "ATTACKER-MARKER-7f3a"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("hardening")
    process = ReceiverProcess(
        root,
        ["--work-items", str(root / "out")],
        {"ROBAWS_WEBHOOK_SECRET": SECRET, "CONTROLROOM_WEBHOOK_SECRET": CR_SECRET},
    )
    process.start().wait_up()
    yield process
    process.stop()


def post(receiver: ReceiverProcess, path: str, body: bytes, headers: dict[str, Any]) -> requests.Response:
    return requests.post(f"{receiver.url}{path}", data=body, headers=headers, timeout=10)


def signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    return {"Robaws-Signature": sign_timestamped(secret, body, timestamp)}


EVENT = json.dumps({"id": "evt-ok", "event": "client.updated", "data": {"note": MARKER}}).encode()
ZEROS = "0" * 64


@pytest.mark.parametrize(
    ("path", "headers", "status", "reason"),
    [
        ("/webhooks/robaws", {}, 401, "no signature header"),
        ("/webhooks/robaws", {"Robaws-Signature": f"t=abc{MARKER},v1={ZEROS}"}, 400, "malformed timestamp"),
        ("/webhooks/robaws", {"Robaws-Signature": f"t=1,t=2,v1={ZEROS}"}, 400, "repeats the t part"),
        ("/webhooks/robaws", lambda: {"Robaws-Signature": f"t={int(time.time())}"}, 400, "lacks the t or v1 part"),
        ("/webhooks/robaws", {"Robaws-Signature": f"v1={ZEROS}"}, 400, "lacks the t or v1 part"),
        ("/webhooks/robaws", {"Robaws-Signature": b"t=1,v1=\xff\xfe" + MARKER.encode()}, 400, "not printable ASCII"),
        ("/webhooks/robaws", {"Robaws-Signature": f"{MARKER}"}, 400, "without '='"),
        (
            "/webhooks/robaws",
            lambda: signed(EVENT, timestamp=int(time.time()) - 3600),
            401,
            "beyond the 300 s tolerance",
        ),
        (
            "/webhooks/robaws",
            lambda: signed(EVENT, timestamp=int(time.time()) + 3600),
            401,
            "beyond the 300 s tolerance",
        ),
        ("/webhooks/robaws", lambda: signed(EVENT, secret="forged"), 401, "does not match"),
        ("/webhooks/controlroom", {"x-rc-signature": sign_body("forged", EVENT)}, 401, "does not match"),
        ("/webhooks/controlroom", {"x-rc-signature": MARKER}, 400, "64-character hex"),
        ("/webhooks/controlroom", {"x-rc-signature": b"\xc3\xa9" * 32}, 400, "not printable ASCII"),
        (f"/webhooks/{MARKER}", lambda: signed(EVENT), 404, "unknown webhook source"),
    ],
)
def test_malformed_forged_and_stale_deliveries(
    receiver: ReceiverProcess, path: str, headers: Any, status: int, reason: str
) -> None:
    # Signed headers are made when the test runs, not when it is collected: a long suite would age them
    # past the receiver's 300 s tolerance before they are sent.
    response = post(receiver, path, EVENT, headers() if callable(headers) else headers)
    assert response.status_code == status
    assert reason in response.json()["error"]
    assert MARKER not in response.text


def test_a_body_declared_too_large_is_refused_before_it_is_read(receiver: ReceiverProcess) -> None:
    body = json.dumps({"id": "big", "pad": "x" * (MB + 10)}).encode()
    response = post(receiver, "/webhooks/robaws", body, signed(body))
    assert response.status_code == 413 and response.json() == {"error": "the body is larger than 1048576 bytes"}


def test_wrong_method_and_paths_give_no_500(receiver: ReceiverProcess) -> None:
    assert requests.get(f"{receiver.url}/webhooks/robaws", timeout=10).status_code == 405
    assert requests.post(f"{receiver.url}/{MARKER}", timeout=10).status_code == 404
    assert requests.get(f"{receiver.url}/health", timeout=10).status_code == 200


def test_a_valid_event_still_passes(receiver: ReceiverProcess) -> None:
    response = post(receiver, "/webhooks/robaws", EVENT, signed(EVENT))
    assert response.status_code == 200 and response.json()["id"] == "evt-ok"


def stream_post(port: int, headers: dict[str, str], total: int, chunked: bool) -> dict[str, Any]:
    """POST ``total`` bytes as fast as the receiver takes them; how far it got and what came back."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = ["POST /webhooks/robaws HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    chunk = b"{" + b" " * (MB - 1)
    sent = 0
    error = None
    try:
        while sent < total:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            sent += len(chunk)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
    except OSError as exc:  # the receiver closed the connection: it stopped reading
        error = type(exc).__name__
    status = None
    try:
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
        status = int(status_line.split()[1]) if status_line else None
    except (OSError, IndexError, ValueError):
        pass
    sock.close()
    return {"sent": sent, "status": status, "error": error}


def test_memory_stays_flat_while_huge_bodies_arrive(receiver: ReceiverProcess) -> None:
    """256 MB streamed bodies: forged-but-fresh signature (read up to the limit, then 413), unsigned (401
    before the body), and a declared 1 GB length (413 before the body); four of each at once."""
    for n in range(20):  # warm up: imports, first requests, the hand-off thread
        body = json.dumps({"id": f"warm-{n}", "event": "client.updated"}).encode()
        post(receiver, "/webhooks/robaws", body, signed(body))
    time.sleep(0.5)
    before = memory_kb(receiver.pid)
    fresh = int(time.time())
    cases = {
        "forged, chunked 256 MB": ({"Robaws-Signature": f"t={fresh},v1={ZEROS}"}, 256 * MB, True),
        "unsigned, chunked 256 MB": ({}, 256 * MB, True),
        "forged, Content-Length 1 GB": ({"Robaws-Signature": f"t={fresh},v1={ZEROS}"}, 1024 * MB, False),
    }
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in cases}

    def run(name: str) -> None:
        headers, total, chunked = cases[name]
        results[name].append(stream_post(receiver.port, headers, total, chunked))

    threads = [threading.Thread(target=run, args=(name,)) for name in cases for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    after = memory_kb(receiver.pid)
    grown_mb = (after["VmHWM"] - before["VmHWM"]) / 1024
    print(
        f"\nreceiver memory: VmRSS {before['VmRSS'] / 1024:.1f} -> {after['VmRSS'] / 1024:.1f} MB,"
        f" peak VmHWM {before['VmHWM'] / 1024:.1f} -> {after['VmHWM'] / 1024:.1f} MB (+{grown_mb:.1f} MB)"
        f" while 12 bodies of 256 MB-1 GB were offered"
    )
    for name, outcomes in results.items():
        sent = max(o["sent"] for o in outcomes) / MB
        print(f"  {name}: statuses {[o['status'] for o in outcomes]}, at most {sent:.0f} MB got out before close")
    assert grown_mb < 50
    for name, outcomes in results.items():
        assert len(outcomes) == 4
        for outcome in outcomes:
            # The receiver answered and closed, or reset the connection: it never took the whole body.
            assert outcome["sent"] < 64 * MB, (name, outcome)
            assert outcome["status"] in (401, 413, None), (name, outcome)
    assert receiver.up()


def test_nothing_the_attacker_sent_reaches_the_log(receiver: ReceiverProcess) -> None:
    post(receiver, "/webhooks/robaws", MARKER.encode(), {"Robaws-Signature": f"t={MARKER}"})
    post(receiver, f"/webhooks/{MARKER}", MARKER.encode(), {})
    log = receiver.stderr()
    assert "Refused a delivery" in log
    assert MARKER not in log and "Traceback" not in log and SECRET not in log


def test_it_binds_to_loopback_unless_told_otherwise() -> None:
    args = build_parser().parse_args(["webhooks", "serve", "--work-items", "x"])
    assert args.host == "127.0.0.1" and args.max_body == 1024 * 1024


def test_only_signed_events_were_stored(receiver: ReceiverProcess) -> None:
    import sqlite3

    with sqlite3.connect(receiver.store) as db:
        stored = {row[0] for row in db.execute("SELECT id FROM webhook_events")}
    assert stored <= {"evt-ok", *(f"warm-{n}" for n in range(20))}


def test_a_body_that_trickles_in_is_cut_off(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A sender that sends a fresh, well-formed header and then stalls gets 408 once the body timeout passes."""
    import uvicorn

    from Connectors.webhooks.app import create_app
    from Connectors.webhooks.dispatcher import Dispatcher
    from Connectors.webhooks.receiver import Receiver
    from Connectors.webhooks.sinks import WorkItemFolder
    from Connectors.webhooks.sources import robaws_source
    from Connectors.webhooks.store import EventStore
    from connectors_sandbox.server import free_port

    root = tmp_path_factory.mktemp("trickle")
    store = EventStore(root / "events.db")
    sink = WorkItemFolder(root / "out")
    sink.prepare()
    receiver = Receiver(store, {"robaws": robaws_source(SECRET)}, Dispatcher(store, sink))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(receiver, body_timeout=0.5), port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        header = f"t={int(time.time())},v1={ZEROS}"
        sock.sendall(
            f"POST /webhooks/robaws HTTP/1.1\r\nHost: x\r\nRobaws-Signature: {header}\r\n"
            "Content-Length: 1000\r\n\r\n{".encode()
        )
        answer = b""
        while chunk := sock.recv(4096):  # until the receiver closes the connection
            answer += chunk
        sock.close()
        assert answer.startswith(b"HTTP/1.1 408") and b"the body did not arrive in time" in answer
        assert store.count() == 0
    finally:
        server.should_exit = True
        thread.join(10)
