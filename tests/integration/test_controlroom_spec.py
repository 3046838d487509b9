"""Every Control Room keyword against the sandbox, through a layer that validates each ``/api/v1`` request
the client sends and each answer the sandbox gives against Robocorp's OpenAPI spec (tests/spec)."""

from __future__ import annotations

import ast
import inspect
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from Connectors.ControlRoom import ControlRoom
from Connectors.core.transport import Transport
from Connectors.vendors.controlroom.generations import CurrentApi, Requests, permission_hint
from Connectors.vendors.controlroom.model import PAYLOAD_LIMIT
from Connectors.vendors.controlroom.operations import OPERATIONS
from connectors_sandbox.app import SandboxContext
from connectors_sandbox.controlroom import ControlRoomSandbox, access
from connectors_sandbox.controlroom.model import PAYLOAD_LIMIT as SANDBOX_PAYLOAD_LIMIT
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


@pytest.fixture
def called(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """(operation id, method, path) of every Control Room API call the client makes."""
    made: list[tuple[str, str, str]] = []
    original = Requests.call

    def call(self: Requests, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        made.append((operation, method, path))
        return original(self, method, path, operation, **kwargs)

    monkeypatch.setattr(Requests, "call", call)
    return made


def test_every_keyword_conforms_to_the_spec(
    sessions: list[ValidatingSession], called: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    kw = Keywords()
    kw("Connect To Control Room")
    workspace = kw("Get Control Room Workspace")
    assert workspace["id"] == os.environ["CONTROLROOM_WORKSPACE_ID"] and workspace["organization"]["name"]
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
    again = kw("Get Control Room Webhook", hook)
    assert again["endpoint"] == "http://127.0.0.1:9/hooks" and again["secret"].value == hook["secret"].value
    kw("Delete Control Room Webhook", hook)

    # Work items and the three ways to start a run.
    attachment = tmp_path / "order.csv"
    attachment.write_text("sku,qty\nA-1,3\n")
    item = kw("Create Work Item", "Invoice Processing", {"order": 7}, files=[str(attachment)])
    with_items = kw(
        "Trigger Process Run With Work Items",
        "Invoice Processing",
        [item],
        callback_url="http://127.0.0.1:9/cb",
        callback_secret="cb-secret-111111",
    )
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
    callback = {"callback_url": "http://127.0.0.1:9/cb", "callback_secret": Secret("cb-secret-654321")}
    one_run = kw(
        "Trigger Process Run With Payloads",
        "Customer Onboarding",
        [{"n": 3}, {"n": 4}],
        **callback,
        callback_events=["started"],
    )
    default = kw("Trigger Process Run", "Report Generation")  # no body: the process's default work item
    kw("Wait For Process Runs", [with_items, with_inputs, *batch, one_run, default], **FAST)
    assert [i["payload"] for i in kw("List Work Items", run_id=one_run, include_data=True)] in (
        [{"n": 3}, {"n": 4}],
        [{"n": 4}, {"n": 3}],
    )
    assert [i["payload"] for i in kw("List Work Items", run_id=default, include_data=True)] == [{"report": "monthly"}]
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
    _each_call_is_a_spec_operation_with_its_hint(called)


def _each_call_is_a_spec_operation_with_its_hint(called: list[tuple[str, str, str]]) -> None:
    """Every /api/v1 call was made as the spec's operation at its method and path, and a 403 of it names
    the permission the spec requires for it."""
    spec = {op["operationId"]: (m, p, scope_of(op)) for m, p, op in operations()}
    # Every operation the client can call (CurrentApi names each by its id) was called in this scenario.
    named = {n.value for n in ast.walk(ast.parse(inspect.getsource(CurrentApi))) if isinstance(n, ast.Constant)}
    client_operations = named & set(OPERATIONS)
    assert len(client_operations) == 31
    assert not client_operations - {operation for operation, _, _ in called}, "operations the scenario missed"
    for operation, method, path in called:
        if "/api/v1/" not in path and not path.startswith("/workspaces/"):
            continue  # a next-page link or the legacy API
        assert operation in spec, f"{method} {path} was sent as {operation}, which the spec does not have"
        spec_method, spec_path, scope = spec[operation]
        assert method == spec_method and _matches(spec_path, path.split("/api/v1", 1)[-1]), (operation, path)
        hint = permission_hint(operation, "forbidden", "ws")
        assert (f"'{scope}'" in hint) if scope else ("permissions" in hint), (operation, hint)


def _matches(template: str, path: str) -> bool:
    parts, actual = template.split("/"), path.split("?", 1)[0].split("/")
    return len(parts) == len(actual) and all(p == a or p.startswith("{") for p, a in zip(parts, actual))


def _admin_events() -> list[dict[str, str]]:
    import requests

    base = os.environ["CONTROLROOM_URL"].rsplit("/controlroom", 1)[0]
    return requests.get(f"{base}/_sandbox/controlroom/webhook-events", timeout=5).json()


def _template(path: str) -> str:
    parts = path.split("/api/v1", 1)[1].split("/")
    return "/".join("{}" if len(p) == 36 and p.count("-") == 4 else p for p in parts)


@pytest.mark.filterwarnings("ignore:Using `httpx`")
def test_every_route_the_sandbox_serves_under_api_v1_is_a_spec_operation_checked_by_its_permission() -> None:
    """Each /api/v1 route is the spec's operation at its method and path; a key lacking exactly the spec's
    permission gets a 403 naming it, and a key with only that permission passes the check."""
    from starlette.routing import Route
    from starlette.testclient import TestClient

    spec = {(m, p): (op["operationId"], scope_of(op), op) for m, p, op in operations()}
    sandbox = ControlRoomSandbox(SandboxContext(SandboxOptions(vendors=("controlroom",))))
    served = [
        (method, route.path.removeprefix("/api/v1"))
        for route in sandbox.routes()
        if isinstance(route, Route) and route.path.startswith("/api/v1/")
        for method in sorted(route.methods or ())
        if method != "HEAD"
    ]
    assert len(served) == 32
    from starlette.applications import Starlette

    client = TestClient(Starlette(routes=sandbox.routes()))
    for method, path in served:
        assert (method, path) in spec, f"the sandbox serves {method} {path}, which the spec does not document"
        operation, scope, raw = spec[(method, path)]
        assert OPERATIONS[operation].scope == scope
        url = "/api/v1" + path.replace("{workspace_id}", access.WORKSPACE_ID)
        url = re.sub(r"{[^}]+}", "00000000-0000-0000-0000-000000000000", url)
        query_token = any(p.get("name") == "token" and p.get("in") == "query" for p in raw.get("parameters", []))
        for permissions, refused in (
            ([p for p in access.ALL_PERMISSIONS if p != scope], bool(scope)),
            ([scope], False),
        ):
            key = f"crk-test-{len(sandbox.keys.keys)}"
            sandbox.keys.keys[key] = access.ApiKey(key, access.WORKSPACE_ID, permissions, "test")
            headers = {} if query_token else {"Authorization": f"RC-WSKEY {key}"}
            params = {"token": key} if query_token else {}
            answer = client.request(method, url, headers=headers, params=params, json={} if method != "GET" else None)
            if refused:
                assert answer.status_code == 403 and scope in answer.json()["error"]["message"], (method, path)
            else:
                assert answer.status_code != 403, (method, path, permissions, answer.text)


def test_the_client_and_the_sandbox_refuse_the_same_payloads(sandbox: SandboxProcess) -> None:
    """A payload of exactly the limit passes both; one byte more is refused by the client before sending,
    and by the sandbox (as Control Room does) when sent anyway."""
    import requests

    from Connectors.core.errors import ValidationError
    from Connectors.vendors.controlroom.client import ControlRoomClient

    assert PAYLOAD_LIMIT == SANDBOX_PAYLOAD_LIMIT == 100_000
    at_limit = {"d": "x" * (PAYLOAD_LIMIT - len('{"d":""}'))}
    over = {"d": "x" * (PAYLOAD_LIMIT - len('{"d":""}') + 1)}
    client = ControlRoomClient()
    assert client.create_work_item("Invoice Processing", at_limit)["payload"] == at_limit
    sent_before = client.transport.stats["requests"]
    with pytest.raises(ValidationError) as refused:
        client.trigger_run_with_payloads("Invoice Processing", [{"small": 1}, over])
    assert client.transport.stats["requests"] == sent_before
    message = str(refused.value)
    assert "100,001 bytes" in message and "100,000" in message and "file" in message and "\n" not in message
    base = os.environ["CONTROLROOM_URL"] + f"/api/v1/workspaces/{os.environ['CONTROLROOM_WORKSPACE_ID']}"
    headers = {"Authorization": f"RC-WSKEY {os.environ['CONTROLROOM_API_KEY']}"}
    pid = client.resolve_process("Invoice Processing")
    runs_before = len(list(client.list_runs(limit=0)))
    for url, body in (
        (f"{base}/work-items", {"process": {"id": pid}, "payload": over}),
        (f"{base}/processes/{pid}/process-runs", {"type": "with_payloads", "payloads": [{"a": 1}, over]}),
    ):
        answer = requests.post(url, json=body, headers=headers, timeout=10)
        assert answer.status_code == 400 and "100000" in answer.json()["error"]["message"], answer.text
    assert len(list(client.list_runs(limit=0))) == runs_before  # nothing half-written


def test_one_run_with_fifty_payloads_has_fifty_input_work_items(sessions: list[ValidatingSession]) -> None:
    kw = Keywords()
    payloads = [{"row": n} for n in range(50)]
    run = kw("Trigger Process Run With Payloads", "Invoice Processing", payloads)
    items = kw("List Work Items", run_id=run, include_data=True, limit=0)
    assert len(items) == 50 and sorted(i["payload"]["row"] for i in items) == list(range(50))
    assert {i["process_run"]["id"] for i in items} == {run["id"]}
    starts = [e for s in sessions for e in s.exchanges if e[0] == "POST" and e[1].endswith("/process-runs")]
    assert len(starts) == 1 and starts[0][2] == 200  # one request, validated against the spec
    violations = [v for s in sessions for v in s.violations]
    assert not violations, "\n".join(violations)
