"""ControlRoomClient against the sandbox: both API generations, waiting, failures, paging, limits."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from Connectors.core.errors import (
    AuthenticationError,
    ConfigurationError,
    Conflict,
    NotFound,
    PermissionDenied,
)
from Connectors.core.webhooks import SignatureError
from Connectors.vendors.controlroom.client import ControlRoomClient, ProcessRunFailed, ProcessRunTimeout
from Connectors.vendors.controlroom.model import RunTriggerUncertain
from connectors_sandbox.server import SandboxProcess

FAST = {"poll_interval": 0.05, "max_interval": 0.2}


@pytest.fixture
def fast(sandbox: SandboxProcess) -> SandboxProcess:
    sandbox.configure(time_scale=20)
    return sandbox


@pytest.fixture(params=["current", "legacy"])
def client(fast: SandboxProcess, request: pytest.FixtureRequest) -> ControlRoomClient:
    return ControlRoomClient(api=request.param)


def test_trigger_wait_and_read_back(client: ControlRoomClient) -> None:
    run = client.trigger_run("Invoice Processing", {"invoice": "INV-1"})
    assert run["state"] in ("new", "in_progress") and run["process"]["id"] == os.environ["CONTROLROOM_PROCESS_ID"]
    finished = client.wait_for_run(run["id"], timeout=10, **FAST)
    assert finished["state"] == "completed" and finished["ended_at"]
    steps = client.list_step_runs(run["id"])
    assert [s["step"]["name"] for s in steps] == ["Read invoices", "Post invoices"]
    assert {s["state"] for s in steps} == {"completed"}
    items = list(client.list_work_items(run_id=run["id"], include_data=True, process="Invoice Processing"))
    assert [(i["state"], i["payload"]) for i in items] == [("done", {"invoice": "INV-1"})]


def test_failed_run_fails_the_wait_with_state_step_and_link(client: ControlRoomClient) -> None:
    run = client.trigger_run("Invoice Processing", {"sandbox": {"outcome": "fail", "step": 0, "message": "boom"}})
    with pytest.raises(ProcessRunFailed) as failure:
        client.wait_for_run(run["id"], timeout=10, **FAST)
    text = str(failure.value)
    assert "ended unresolved" in text and "step 'Read invoices' failed (ROBOT_FAILURE: boom)" in text
    assert client.run_link(run["id"]) in text and "\n" not in text
    # Later steps never ran.
    assert len(client.list_step_runs(run["id"])) == 1


def test_unresolved_run_can_be_returned_and_retried_to_completion(client: ControlRoomClient) -> None:
    run = client.trigger_run("Customer Onboarding", {"sandbox": {"outcome": "unresolved"}})
    finished = client.wait_for_run(run["id"], timeout=10, fail_on_unresolved=False, **FAST)
    assert finished["state"] == "unresolved"
    failed = list(client.list_work_items("Customer Onboarding", run_id=run["id"], state="failed"))
    assert len(failed) == 1 and failed[0]["exception"]["type"] == "business"
    client.retry_work_items([failed[0]["id"]], process="Customer Onboarding")
    assert client.wait_for_run(run["id"], timeout=10, **FAST)["state"] == "completed"
    if client.api == "legacy":
        with pytest.raises(Conflict):  # the legacy API refuses to retry a done item
            client.retry_work_items([failed[0]["id"]], process="Customer Onboarding")
    else:  # the current API accepts the batch and leaves a done item done
        client.retry_work_items([failed[0]["id"]])
        assert client.get_work_item(failed[0]["id"])["state"] == "done"


def test_wait_times_out_with_the_running_step(fast: SandboxProcess) -> None:
    client = ControlRoomClient()
    run = client.trigger_run("Report Generation", {"sandbox": {"seconds": 3600}})
    started = time.monotonic()
    with pytest.raises(ProcessRunTimeout) as timeout:
        client.wait_for_run(run["id"], timeout=0.5, **FAST)
    assert time.monotonic() - started < 2
    assert "still in_progress after 0.5 s: step 'Collect data' in progress" in str(timeout.value)


def test_stop_a_running_run(fast: SandboxProcess) -> None:
    client = ControlRoomClient()
    run = client.trigger_run("Report Generation", {"sandbox": {"seconds": 3600}})
    time.sleep(0.1)
    stopped = client.stop_run(run["id"], reason="wrong input", terminate_ongoing=True)
    assert stopped["state"] == "unresolved"
    with pytest.raises(ProcessRunFailed, match=r"failed \(PROCESS_RUN_STOPPED: Process run stopped: wrong input\)"):
        client.wait_for_run(run["id"], timeout=5, **FAST)
    assert client.stop_run(run["id"])["state"] == "unresolved"  # not accepted: it has finished
    # Stopping gracefully lets the step finish its current work (stopping), items marked done.
    other = client.trigger_run("Report Generation", {"sandbox": {"seconds": 3600}})
    time.sleep(0.1)
    # "stopping" lasts up to 2 s of sandbox time (0.1 s here); the unit tests pin it down.
    assert client.stop_run(other["id"], set_remaining_work_items_as_done=True)["state"] in ("stopping", "completed")
    assert client.wait_for_run(other["id"], timeout=5, **FAST)["state"] == "completed"
    with pytest.raises(ConfigurationError, match="current API only"):
        ControlRoomClient(api="legacy").stop_run(run["id"])


def test_paging_follows_next_links_lazily(fast: SandboxProcess) -> None:
    client = ControlRoomClient()
    runs = client.trigger_runs("Customer Onboarding", [{"n": i} for i in range(11)])
    assert len(runs) == 11
    before = fast.stats()["controlroom"]["requests"]
    listed = list(client.list_runs("Customer Onboarding", page_size=3))
    assert [r["id"] for r in listed] == [r["id"] for r in reversed(runs)]
    assert fast.stats()["controlroom"]["requests"] - before == 4  # 11 runs in pages of 3 (the name is cached)
    before = fast.stats()["controlroom"]["requests"]
    assert len(list(client.list_runs("Customer Onboarding", page_size=3, limit=4))) == 4
    assert fast.stats()["controlroom"]["requests"] - before == 2  # the third page is never fetched
    items = list(client.list_work_items("Customer Onboarding", page_size=2))
    assert len(items) == 11


def test_server_side_state_filter(fast: SandboxProcess) -> None:
    client = ControlRoomClient()
    bad = client.trigger_run("Customer Onboarding", {"sandbox": {"outcome": "fail"}})
    client.wait_for_run(bad["id"], fail_on_unresolved=False, **FAST)
    unresolved = list(client.list_runs(state="unresolved"))
    assert bad["id"] in {r["id"] for r in unresolved} and {r["state"] for r in unresolved} == {"unresolved"}


def test_permissions_and_keys(fast: SandboxProcess) -> None:
    readonly = ControlRoomClient(api_key=os.environ["CONTROLROOM_READONLY_API_KEY"])
    assert list(readonly.list_runs(limit=1))
    with pytest.raises(PermissionDenied) as denied:
        readonly.trigger_run("Invoice Processing")
    assert "HTTP 403" in str(denied.value)
    assert "probably lacks the 'Processes.trigger_processes' permission" in str(denied.value)
    with pytest.raises(PermissionDenied, match=r"'Processes\.trigger_processes'"):
        readonly.stop_run("00000000-0000-0000-0000-000000000000")
    other = ControlRoomClient(api_key=os.environ["CONTROLROOM_OTHER_WORKSPACE_API_KEY"])
    with pytest.raises(PermissionDenied, match="belongs to another workspace"):
        list(other.list_processes())
    wrong = ControlRoomClient(api_key="crk_not-a-real-key-123")
    with pytest.raises(AuthenticationError, match="HTTP 401"):
        list(wrong.list_processes())
    with pytest.raises(NotFound, match="Known processes: Customer Onboarding"):
        readonly.resolve_process("No Such Process")


def test_429_is_retried_with_back_off(fast: SandboxProcess) -> None:
    """Control Room publishes no limit and no Retry-After: the sandbox has a 429 path only when a test
    turns it on, and the client backs off on its own."""
    assert fast.admin("POST", "/_sandbox/controlroom/config", {})["rate_limit"] is None  # off by default
    fast.admin("POST", "/_sandbox/controlroom/config", {"rate_limit": 2, "burst": 2})
    try:
        client = ControlRoomClient(rate_limit="none")
        for _ in range(4):
            client.get_run(client.trigger_run("Customer Onboarding")["id"])
        assert fast.stats()["controlroom"]["rate_limited"] >= 1
        assert client.transport.stats["retries"] >= 1
    finally:
        fast.admin("POST", "/_sandbox/controlroom/config", {"rate_limit": None})


def test_work_item_with_files_then_run_with_it(client: ControlRoomClient, tmp_path: Path) -> None:
    attachment = tmp_path / "order.csv"
    attachment.write_text("sku,qty\nA-1,3\n")
    item = client.create_work_item("Invoice Processing", {"order": 7}, [attachment])
    assert item["state"] == "new" and item["files"] == [
        {"id": item["files"][0]["id"], "name": "order.csv", "size": attachment.stat().st_size}
    ]
    run = client.trigger_run_with_work_items("Invoice Processing", [item["id"]])
    client.wait_for_run(run["id"], **FAST)
    assert client.get_work_item(item["id"], process="Invoice Processing")["state"] == "done"


def test_download_artifacts_with_a_pattern_and_expiring_links(
    client: ControlRoomClient, fast: SandboxProcess, tmp_path: Path
) -> None:
    run = client.trigger_run("Invoice Processing", {"sandbox": {"artifacts": {"summary.csv": "a,b\n1,2\n"}}})
    client.wait_for_run(run["id"], **FAST)
    names = sorted(a["name"] for a in client.list_artifacts(run["id"]))
    assert names == ["log.html", "log.html", "output.xml", "output.xml", "summary.csv"]
    paths = client.download_artifacts(run["id"], tmp_path / "out", "*.csv")
    assert [p.name for p in paths] == ["summary.csv"] and paths[0].read_text() == "a,b\n1,2\n"
    assert len(client.download_artifacts(run["id"], tmp_path / "all")) == 5
    # The links are pre-signed and short-lived.
    artifact = client.list_artifacts(run["id"])[0]
    fast.admin("POST", "/_sandbox/controlroom/config", {"url_ttl": 0})
    try:
        url = client._artifact_url(artifact)
        time.sleep(0.05)
        expired = requests.get(url, timeout=5)
        assert expired.status_code == 403 and b"Request has expired" in expired.content
    finally:
        fast.admin("POST", "/_sandbox/controlroom/config", {"url_ttl": 60})


class Receiver:
    """A local endpoint that records every delivery (body and headers)."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.deliveries.append((body, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_webhooks_callbacks_and_at_least_once_delivery(fast: SandboxProcess) -> None:
    receiver = Receiver()
    client = ControlRoomClient()
    hook = client.create_webhook("Customer Onboarding", receiver.url + "/process", ["process_run.completed"])
    fast.admin(
        "POST", "/_sandbox/controlroom/config", {"webhook_url": receiver.url + "/ws", "webhook_duplicates": True}
    )
    try:
        callback = {"url": receiver.url + "/run", "secret": "cb-secret-0123456", "callback_events": ["started"]}
        run = client.trigger_run("Customer Onboarding", {"n": 1}, callback)
        client.wait_for_run(run["id"], **FAST)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(receiver.deliveries) < 6:
            time.sleep(0.05)
    finally:
        fast.admin("POST", "/_sandbox/controlroom/config", {"webhook_url": "", "webhook_duplicates": False})
    by_secret = {"ws": os.environ["CONTROLROOM_WEBHOOK_SECRET"], "process": hook["secret"], "run": callback["secret"]}
    seen: dict[str, list[dict]] = {}
    for body, headers in receiver.deliveries:
        for name, secret in by_secret.items():
            try:
                event = ControlRoomClient.verify_webhook(body, headers["x-rc-signature"], secret)
            except SignatureError:
                continue
            seen.setdefault(name, []).append(event)
    # Workspace webhook: started and completed, each delivered twice with the same event id.
    workspace = seen["ws"]
    assert sorted(e["event"] for e in workspace) == ["process_run.completed"] * 2 + ["process_run.started"] * 2
    assert len({e["id"] for e in workspace}) == 2
    assert {e["payload"]["processRunId"] for e in workspace} == {run["id"]}
    assert {e["event"] for e in seen["process"]} == {"process_run.completed"}
    assert {e["event"] for e in seen["run"]} == {"process_run.started"}
    client.delete_webhook(hook["id"])
    assert client.list_webhooks() == []


def test_integration_endpoint_takes_the_key_as_a_token(fast: SandboxProcess) -> None:
    url = (
        f"{os.environ['CONTROLROOM_URL']}/api/v1/workspaces/{os.environ['CONTROLROOM_WORKSPACE_ID']}"
        f"/processes/{os.environ['CONTROLROOM_PROCESS_ID']}/process-runs-integrations"
    )
    answer = requests.post(url, params={"token": os.environ["CONTROLROOM_API_KEY"]}, json={"from": "crm"}, timeout=5)
    assert answer.status_code == 200 and answer.json()["started"] is True
    (item,) = ControlRoomClient().list_work_items(run_id=answer.json()["id"], include_data=True)
    assert item["payload"] == {"from": "crm"}
    assert requests.post(url, json={}, timeout=5).status_code == 401


@pytest.mark.parametrize("api", ["current", "legacy"])
def test_a_trigger_whose_answer_is_lost_is_uncertain_and_the_check_finds_the_run(
    fast: SandboxProcess, api: str
) -> None:
    client = ControlRoomClient(api=api)
    client.resolve_process("Customer Onboarding")  # the name is known before the faults start
    before = len(list(client.list_runs("Customer Onboarding")))
    fast.configure(faults="lost=1.0")
    try:
        with pytest.raises(RunTriggerUncertain) as uncertain:
            client.trigger_run("Customer Onboarding", {"n": 1})
    finally:
        fast.configure(faults="")
    error = uncertain.value
    assert "may or may not have started" in str(error) and error.process_name == "Customer Onboarding"
    assert fast.stats()["faults_injected"]["lost"] == 1  # sent once: a trigger is never repeated
    started = list(ControlRoomClient(api=api).list_runs("Customer Onboarding", since=error.since))
    assert len(started) == 1 and len(list(client.list_runs("Customer Onboarding"))) == before + 1


def test_a_lost_start_of_one_run_with_many_payloads_is_found_when_repeated(fast: SandboxProcess) -> None:
    """The same trigger repeated after a lost answer returns the run the lost attempt started."""
    client = ControlRoomClient()
    client.resolve_process("Customer Onboarding")
    payloads = [{"batch": "B-7", "row": n} for n in range(3)]
    fast.configure(faults="lost=1.0")
    try:
        with pytest.raises(RunTriggerUncertain):
            client.trigger_run_with_payloads("Customer Onboarding", payloads)
    finally:
        fast.configure(faults="")
    run = client.trigger_run_with_payloads("Customer Onboarding", payloads)
    runs = [r for r in client.list_runs("Customer Onboarding", limit=0) if r["id"] == run["id"]]
    items = list(client.list_work_items(run_id=run["id"], include_data=True))
    assert len(runs) == 1 and sorted(i["payload"]["row"] for i in items) == [0, 1, 2]
    assert fast.stats()["faults_injected"]["lost"] == 1
    mine = [
        r
        for r in client.list_runs("Customer Onboarding", limit=0)
        if any(i["payload"] == payloads[0] for i in client.list_work_items(run_id=r["id"], include_data=True))
    ]
    assert [r["id"] for r in mine] == [run["id"]], "the repeat started a second run"


@pytest.fixture
def forget_uncertain_writes() -> Iterator[None]:
    from Connectors.core.repeats import journal

    yield
    journal.clear()


def test_a_lost_start_without_payload_is_never_sent_again(fast: SandboxProcess, forget_uncertain_writes: None) -> None:
    client = ControlRoomClient()
    client.resolve_process("Report Generation")
    fast.configure(faults="lost=1.0")
    try:
        with pytest.raises(RunTriggerUncertain) as first:
            client.trigger_run("Report Generation")
    finally:
        fast.configure(faults="")
    with pytest.raises(RunTriggerUncertain, match="not started again") as again:
        client.trigger_run("Report Generation")
    assert again.value.since == first.value.since and "Report Generation" in str(again.value)
    started = list(client.list_runs("Report Generation", since=first.value.since, limit=0))
    assert len(started) == 1  # the lost attempt's run, and no second one


def test_unknown_paths_and_methods_answer_in_control_rooms_error_format(sandbox: SandboxProcess) -> None:
    base = f"{os.environ['CONTROLROOM_URL']}/api/v1/workspaces/{os.environ['CONTROLROOM_WORKSPACE_ID']}"
    headers = {"Authorization": f"RC-WSKEY {os.environ['CONTROLROOM_API_KEY']}"}
    for method, url, status in (
        ("GET", base + "/no-such-thing", 404),
        ("DELETE", base + "/processes", 405),
        ("GET", base + "/process-runs/%0Abad", 404),
    ):
        answer = requests.request(method, url, headers=headers, timeout=5)
        assert answer.status_code == status and answer.headers["content-type"].startswith("application/json")
        assert set(answer.json()) == {"error"} and set(answer.json()["error"]) == {"code", "message"}


def test_devdata_connects_to_the_demo_workspace(sandbox: SandboxProcess) -> None:
    """The fixed demo credentials: devdata/env.json works against any sandbox started with --demo."""
    env = json.loads((Path(__file__).resolve().parents[2] / "devdata" / "env.json").read_text())
    demo = {k: v.replace(sandbox.url, "http://127.0.0.1:8700") for k, v in sandbox.environment().items()}
    for name in ("CONTROLROOM_URL", "CONTROLROOM_WORKSPACE_ID", "CONTROLROOM_API_KEY"):
        assert env[name] == demo[name], name
    config = sandbox.admin("GET", "/_sandbox/config")["vendors"]["controlroom"]
    assert config["processes"]["Invoice Processing"] == os.environ["CONTROLROOM_PROCESS_ID"]
    client = ControlRoomClient(env["CONTROLROOM_WORKSPACE_ID"], env["CONTROLROOM_API_KEY"])
    assert {p["name"] for p in client.list_processes()} == set(config["processes"])
