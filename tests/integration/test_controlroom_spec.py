"""Every Control Room keyword against the sandbox, through a layer that validates each ``/api/v1`` request
the client sends and each answer the sandbox gives against Robocorp's OpenAPI spec (tests/spec)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from Connectors.ControlRoom import ControlRoom
from Connectors.core.transport import Transport
from Connectors.vendors.controlroom.errors import SCOPES
from connectors_sandbox.app import SandboxContext
from connectors_sandbox.controlroom import ControlRoomSandbox
from connectors_sandbox.options import SandboxOptions
from connectors_sandbox.server import SandboxProcess
from spec.controlroom import ValidatingSession, operations, scope_of

FAST = {"poll_interval": 0.05, "max_interval": 0.2, "timeout": 30}


@pytest.fixture
def sessions(sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ValidatingSession]]:
    """Every Transport built during the test gets a validating session."""
    made: list[ValidatingSession] = []
    original = Transport.__init__
    api_base = os.environ["CONTROLROOM_URL"] + "/api/v1"

    def init(self: Transport, config: Any, session: Any = None) -> None:
        if session is None and config.base_url.startswith(api_base):
            session = ValidatingSession(api_base)
            made.append(session)
        original(self, config, session)

    monkeypatch.setattr(Transport, "__init__", init)
    sandbox.configure(time_scale=20)
    yield made


class Keywords:
    """Runs keywords through the library's dynamic API and records which ran."""

    def __init__(self) -> None:
        self.library = ControlRoom()
        self.ran: set[str] = set()

    def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        keyword = name.lower().replace(" ", "_")
        self.ran.add(keyword)
        return self.library.run_keyword(keyword, list(args), kwargs)


def test_every_keyword_conforms_to_the_spec(sessions: list[ValidatingSession], tmp_path: Path) -> None:
    kw = Keywords()
    kw("Connect To Control Room")
    assert kw("Get Control Room Rate Limit Status")["rate"]
    assert kw("Get Process Id By Name", "Invoice Processing") in {p["id"] for p in kw("List Processes")}

    # Assets: set (inline), read, list, overwrite with content above the inline limit, delete.
    kw("Set Control Room Asset", "settings", {"currency": "EUR"})
    assert kw("Get Control Room Asset", "settings") == {"currency": "EUR"}
    big = b"x" * (5 * 1024 * 1024 + 1)
    kw("Set Control Room Asset", "settings", big)
    assert kw("Get Control Room Asset", "settings") == big
    assert [a["name"] for a in kw("List Control Room Assets")] == ["settings"]
    assert kw("Delete Control Room Asset", "settings")["deleted"] is True

    # Webhooks.
    hook = kw("Create Control Room Webhook", "Invoice Processing", "http://127.0.0.1:9/hooks")
    assert [h["id"] for h in kw("List Control Room Webhooks")] == [hook["id"]]
    kw("Delete Control Room Webhook", hook)

    # Work items and the three ways to start a run.
    attachment = tmp_path / "order.csv"
    attachment.write_text("sku,qty\nA-1,3\n")
    item = kw("Create Work Item", "Invoice Processing", {"order": 7}, files=[str(attachment)])
    with_items = kw("Trigger Process Run With Work Items", "Invoice Processing", [item])
    kw("Create Work Item", "Customer Onboarding", {"queued": True})
    with_inputs = kw("Trigger Process Run With Inputs", "Customer Onboarding")
    assert with_inputs is not None and kw("Trigger Process Run With Inputs", "Customer Onboarding") is None
    from robot.api.types import Secret

    payload = {"invoice": "INV-1", "sandbox": {"outputs": [{"booked": "INV-1"}], "artifacts": {"s.csv": "a"}}}
    run = kw(
        "Trigger Process Run",
        "Invoice Processing",
        payload,
        callback_url="http://127.0.0.1:9/callback",
        callback_secret=Secret("cb-secret-123456"),
    )
    batch = kw("Trigger Process Runs", "Customer Onboarding", [{"n": 1}, {"n": 2}])
    kw("Wait For Process Runs", [with_items, with_inputs, *batch], **FAST)
    finished = kw("Wait For Process Run", run, **FAST)
    assert kw("Get Process Run", run)["state"] == finished["state"] == "completed"
    assert run["id"] in {r["id"] for r in kw("List Process Runs", "Invoice Processing", state="completed")}
    assert kw("List Process Runs", since=finished["created_at"], limit=0)
    assert kw("Get Process Run Link", run).endswith(run["id"])
    assert [o["payload"] for o in kw("Get Process Run Outputs", run)] == [{"booked": "INV-1"}]

    # Step runs, console, events, artifacts.
    steps = kw("List Step Runs", run)
    assert kw("Get Step Run", steps[0])["state"] == "completed"
    assert kw("List Step Run Console Messages", steps[-1])
    assert kw("List Step Run Events", steps[-1])
    assert {a["name"] for a in kw("List Run Artifacts", run)} >= {"log.html", "s.csv"}
    assert len(kw("Download Run Artifacts", run, str(tmp_path / "a"), "*.csv")) == 1

    # Failed work: fix the payload, retry, mark done, delete.
    bad = kw("Trigger Process Runs", "Customer Onboarding", [{"sandbox": {"outcome": "unresolved"}}] * 3)
    kw("Wait For Process Runs", bad, fail_on_unresolved=False, **FAST)
    failed = kw("List Work Items", "Customer Onboarding", state="failed", include_data=True)
    assert len(failed) == 3 and kw("Get Work Item", failed[0])["exception"]["type"] == "business"
    assert kw("Update Work Item Payload", failed[0], {"fixed": True}) == {"fixed": True}
    kw("Retry Work Items", failed[0])
    kw("Mark Work Items Done", failed[1])
    kw("Wait For Process Runs", [failed[0]["process_run"]["id"], failed[1]["process_run"]["id"]], **FAST)
    kw("Delete Work Items", failed[2])
    assert len(kw("List Work Items", "Customer Onboarding", state="failed")) == 0

    # Stop and delete.
    long = kw("Trigger Process Run", "Report Generation", {"sandbox": {"seconds": 3600}})
    stopped = kw("Stop Process Run", long, reason="enough", terminate_ongoing=True)
    assert stopped["state"] in ("stopping", "unresolved")
    kw("Wait For Process Run", long, fail_on_unresolved=False, **FAST)
    assert kw("Delete Process Run", long)["deleted"] is True
    assert len(kw("List Workers")) == 2

    # Webhook deliveries are signed with the workspace webhook's secret.
    events = [e for e in _admin_events() if run["id"] in e["body"] and not e["url"]]  # the workspace webhook
    event = kw("Verify Control Room Webhook Signature", events[-1]["body"], events[-1]["signature"])
    assert event["event"] == "process_run.completed"

    assert kw.ran == set(kw.library.get_keyword_names()), "keywords not exercised against the spec"
    exchanges = [e for s in sessions for e in s.exchanges]
    violations = [v for s in sessions for v in s.violations]
    assert not violations, "\n".join(violations)
    assert len({(m, _template(p)) for m, p, _ in exchanges}) >= 28  # of the 31 operations the client uses


def _admin_events() -> list[dict[str, str]]:
    import requests

    base = os.environ["CONTROLROOM_URL"].rsplit("/controlroom", 1)[0]
    return requests.get(f"{base}/_sandbox/controlroom/webhook-events", timeout=5).json()


def _template(path: str) -> str:
    parts = path.split("/api/v1", 1)[1].split("/")
    return "/".join("{}" if len(p) == 36 and p.count("-") == 4 else p for p in parts)


def test_the_sandbox_and_the_client_name_the_spec_scope_of_every_operation() -> None:
    spec = {(m, p): (op["operationId"], scope_of(op)) for m, p, op in operations()}
    sandbox = ControlRoomSandbox(SandboxContext(SandboxOptions(vendors=("controlroom",))))
    served = [(m, "/workspaces/{workspace_id}" + p, s) for m, p, s, _ in sandbox.current.routes()]
    served += [(m, "/workspaces/{workspace_id}" + p, s) for m, p, s, _ in sandbox.workspace_api.routes()]
    assert len(served) == 31
    for method, path, scope in served:
        key = (method, _spec_path(path))
        assert key in spec, f"the sandbox serves {method} {path}, which the spec does not document"
        assert scope == spec[key][1], f"{method} {path}: sandbox scope {scope!r}, spec {spec[key][1]!r}"
    by_operation = dict(spec.values())
    for operation, scope in SCOPES.items():
        assert by_operation[operation] == scope, operation


def _spec_path(path: str) -> str:
    names = {
        "{pid}": "{process_id}",
        "{rid}": "{process_run_id}",
        "{sid}": "{step_run_id}",
        "{aid}": "{artifact_id}",
        "{wid}": "{work_item_id}",
        "{hid}": "{webhook_id}",
        "{uid}": "{upload_id}",
    }
    if "/assets/" in path:
        names["{aid}"] = "{asset_id}"
    for short, long in names.items():
        path = path.replace(short, long)
    return path
