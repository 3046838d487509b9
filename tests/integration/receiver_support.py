"""Running ``connectors webhooks serve`` as a child process, killing it, and delivering to it like a vendor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests

from Connectors.core.webhooks import sign_timestamped
from connectors_sandbox.server import free_port

ROOT = Path(__file__).resolve().parents[2]


class ReceiverProcess:
    """``python -m Connectors webhooks serve`` on a free port; restartable, killable with SIGKILL."""

    def __init__(self, workdir: Path, args: list[str], env: Mapping[str, str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.store = workdir / "events.db"
        self.args = [
            sys.executable,
            "-m",
            "Connectors",
            "webhooks",
            "serve",
            "--port",
            str(self.port),
            "--store",
            str(self.store),
            *args,
        ]
        self.env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(sys.path), **env}
        self.stderr_path = workdir / "receiver.stderr"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> ReceiverProcess:
        with open(self.stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(self.args, env=self.env, stdout=subprocess.DEVNULL, stderr=stderr)
        self.starts += 1
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def up(self) -> bool:
        try:
            return requests.get(f"{self.url}/health", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def wait_up(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the receiver exited: {self.stderr()[-2000:]}")
            if self.up():
                return
            time.sleep(0.05)
        raise AssertionError("the receiver did not start")

    def health(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.url}/health", timeout=5).json())

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM (uvicorn shuts down, the hand-off thread finishes its round and flushes)."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.terminate()
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def wait_handed_off(self, expected: int, timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                health = self.health()
            except requests.RequestException:
                health = {}
            events = health.get("events") or {}
            if events.get("handed_off", 0) + events.get("failed", 0) >= expected:
                return health
            time.sleep(0.2)
        raise AssertionError(f"not every event was handed off: {health}")


def robaws_event(secret: str, event_id: str) -> Callable[[], tuple[bytes, dict[str, str]]]:
    """A delivery signed afresh at each attempt, as a vendor's retry would be."""
    body = json.dumps({"id": event_id, "event": "client.updated", "data": {"id": event_id}}).encode()

    def make() -> tuple[bytes, dict[str, str]]:
        return body, {"Content-Type": "application/json", "Robaws-Signature": sign_timestamped(secret, body)}

    return make


def deliver_until_acknowledged(
    url: str, make: Callable[[], tuple[bytes, dict[str, str]]], deadline: float, session: requests.Session
) -> dict[str, Any]:
    """POST until a 2xx, like a vendor; connection errors and 5xx are retried, 4xx are a test failure."""
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        body, headers = make()
        try:
            response = session.post(url, data=body, headers=headers, timeout=5)
        except requests.RequestException:
            time.sleep(0.02)
            continue
        if 200 <= response.status_code < 300:
            return {"attempts": attempts, **response.json()}
        if response.status_code < 500:
            raise AssertionError(f"refused with {response.status_code}: {response.text}")
        time.sleep(0.02)
    raise AssertionError("the event was never acknowledged")


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in kB, from /proc."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0])
    return figures
