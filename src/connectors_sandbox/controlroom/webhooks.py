"""Control Room's outgoing webhooks: ``process_run.started`` / ``completed`` / ``unresolved``.

As the vendor documents them: a POST with a JSON event ``{id, webhookEventTimestamp, event, payload}``
(``payload.workspaceId`` is documented; ``processId``, ``processRunId`` and ``state`` are this sandbox's
reading), signed in ``x-rc-signature`` with the hex HMAC-SHA256 of the raw body and the target's shared
secret, delivered at least once (``duplicates`` re-sends every event with the same ``id``). Targets: the
workspace webhook configured in the UI (``/_sandbox/controlroom/config {"webhook_url"}``, secret
``CONTROLROOM_WEBHOOK_SECRET``), process webhooks created through the API, and a run's ``callback``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from connectors_sandbox.controlroom.access import WEBHOOK_SECRET
from connectors_sandbox.controlroom.model import FINISHED, Run

if TYPE_CHECKING:
    from connectors_sandbox.controlroom.emulator import ControlRoomSandbox

log = logging.getLogger("connectors.sandbox.controlroom")


class WebhookEmitter:
    def __init__(self, sandbox: ControlRoomSandbox) -> None:
        self.sb = sandbox
        self.workspace_url: str | None = None
        self.duplicates = False
        self.sent: list[dict[str, Any]] = []
        self._notified: set[str] = set()
        self._wake = threading.Event()
        self._started = False

    def reset(self) -> None:
        self.workspace_url = None
        self.duplicates = False
        self.sent = []
        self._notified = set()

    def wake(self) -> None:
        if not self._started:
            self._started = True
            threading.Thread(target=self._watch, name="controlroom-webhooks", daemon=True).start()
        self._wake.set()

    def _watch(self) -> None:
        while True:
            self._wake.wait(0.2)
            self._wake.clear()
            try:
                self.emit_due()
            except Exception:  # the watcher must outlive a reset racing with it
                log.exception("Control Room webhook watcher")
            time.sleep(0.05)

    def emit_due(self) -> None:
        model = self.sb.model
        with model.lock:
            now = model.clock.now()
            for run in list(model.runs.values()):
                if run.created < 0:  # demo history, finished before the sandbox started
                    continue
                state = model.run_state(run, now)
                if state != "new" and self._first(f"{run.id}:started"):
                    self._emit(run, "started", now)
                if state in FINISHED and self._first(f"{run.id}:{state}:{run.finish()}"):
                    self._emit(run, state, now)

    def _first(self, marker: str) -> bool:
        if marker in self._notified:
            return False
        self._notified.add(marker)
        return True

    def _targets(self, run: Run, short: str) -> list[tuple[str, str]]:
        event = f"process_run.{short}"
        targets: list[tuple[str, str]] = []
        # The workspace webhook's events are kept (``/_sandbox/controlroom/webhook-events``) even
        # when no endpoint is configured, so tests can read signed events without a receiver.
        targets.append((self.workspace_url or "", WEBHOOK_SECRET))
        for hook in self.sb.workspace_api.webhooks.values():
            same_scope = hook.workspace_id == run.workspace_id and hook.process_id in (None, run.process_id)
            if same_scope and event in hook.events:
                targets.append((hook.endpoint, hook.secret))
        callback = run.callback
        if callback and short in callback["callback_events"]:
            targets.append((callback["url"], callback["secret"]))
        return targets

    def _emit(self, run: Run, short: str, now: float) -> None:
        state = self.sb.model.run_state(run, now)
        for url, secret in self._targets(run, short):
            event = {
                "id": str(uuid.uuid4()),
                "webhookEventTimestamp": self.sb.clock.iso(now),
                "event": f"process_run.{short}",
                "payload": {
                    "workspaceId": run.workspace_id,
                    "processId": run.process_id,
                    "processRunId": run.id,
                    "state": state,
                },
            }
            body = json.dumps(event, separators=(",", ":")).encode()
            signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            self.sent.append({"url": url, "body": body.decode(), "signature": signature})
            del self.sent[:-500]
            headers = {"Content-Type": "application/json", "x-rc-signature": signature}
            for _ in range(2 if self.duplicates and url else 1 if url else 0):
                self.sb.ctx.deliver(url, body, headers)
