"""Test-only controls for the Control Room acceptance suites: the sandbox's admin routes.

Nothing here returns or logs an API key.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from robot.api.deco import keyword, library


def _admin(method: str, path: str, body: Any = None) -> Any:
    base = os.environ["CONTROLROOM_URL"].rsplit("/controlroom", 1)[0]
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


@library(scope="SUITE")
class ControlRoomSandboxHelper:
    @keyword
    def configure_control_room_sandbox(self, **settings: Any) -> Any:
        """``rate_limit``/``burst`` per key (None: no limit, the default), ``url_ttl`` (seconds a download link
        lives), ``webhook_url``."""
        return _admin("POST", "/_sandbox/controlroom/config", settings)

    @keyword
    def set_sandbox_time_scale(self, scale: float) -> None:
        """Make sandbox time run ``scale`` times faster (returns nothing: the config holds demo keys)."""
        _admin("POST", "/_sandbox/config", {"time_scale": float(scale)})

    @keyword
    def write_control_room_vault_file(self, path: str, name: str, key_variable: str) -> None:
        """A FileSecrets file: secret ``name`` with the workspace id and the key in ``key_variable``."""
        secret = {"workspace_id": os.environ["CONTROLROOM_WORKSPACE_ID"], "api_key": os.environ[key_variable]}
        Path(path).write_text(json.dumps({name: secret}), encoding="utf-8")

    @keyword
    def get_control_room_webhook_event(self, run_id: str, timeout: float = 5) -> dict[str, str]:
        """The signed ``process_run.completed`` event (``body``, ``signature``) of the workspace webhook."""
        deadline = time.monotonic() + float(timeout)
        while time.monotonic() < deadline:
            for event in _admin("GET", "/_sandbox/controlroom/webhook-events"):
                if run_id in event["body"] and "process_run.completed" in event["body"] and not event["url"]:
                    return {"body": event["body"], "signature": event["signature"]}
            time.sleep(0.1)
        raise AssertionError(f"No webhook event for run {run_id} within {timeout} s")

    @keyword
    def add_command_process(self, name: str, script: str) -> dict[str, Any]:
        """A sandbox process whose every run executes ``python <script>`` with the run's work items."""
        return dict(
            _admin(
                "POST",
                "/_sandbox/controlroom/processes",
                {"name": name, "command": [sys.executable, str(Path(script).resolve())]},
            )
        )
