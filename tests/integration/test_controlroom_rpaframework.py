"""rpaframework's RPA.Robocorp.Process, unmodified, against the sandbox's legacy process-v1 API.

If the real library can start runs, list them, read their status and list work items here, the
sandbox speaks the protocol that library was written against.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from connectors_sandbox.server import SandboxProcess

process_module = pytest.importorskip(
    "RPA.Robocorp.Process",
    reason="rpaframework is not installed (pip install robotframework-connectors[peers])",
)


def _process(sandbox: SandboxProcess, key_variable: str = "CONTROLROOM_API_KEY") -> object:
    return process_module.Process(
        workspace_id=os.environ["CONTROLROOM_WORKSPACE_ID"],
        process_id=os.environ["CONTROLROOM_PROCESS_ID"],
        workspace_api_key=os.environ[key_variable],
        robocorp_api_server=f"{os.environ['CONTROLROOM_URL']}/process-v1",
    )


def _wait_for(process: object, run_id: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = process.get_process_run_status(run_id)  # type: ignore[attr-defined]
        if status["state"] == "COMPL" or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_start_process_list_runs_status_and_work_items(sandbox: SandboxProcess) -> None:
    sandbox.configure(time_scale=20)
    process = _process(sandbox)

    started = process.start_process({"invoice": "INV-42"})
    assert set(started) == {"id", "workItemIds"} and len(started["workItemIds"]) == 1

    batch = process.start_process(work_items=[{"row": 1}, {"row": 2}], batch=True)
    assert len(batch) == 2 and all(len(run["workItemIds"]) == 1 for run in batch)

    runs = process.list_process_runs()
    assert {started["id"], batch[0]["id"], batch[1]["id"]} <= {run["id"] for run in runs}
    assert process.list_process_runs(limit=1)[0]["id"] == batch[1]["id"]  # newest first

    early = process.get_process_run_status(started["id"])
    assert early["state"] in ("INI", "IP")
    status = _wait_for(process, started["id"])
    assert status["state"] == "COMPL" and status["result"] == "ok" and status["errorCode"] is None
    assert started["id"] in {run["id"] for run in process.list_process_runs(run_state="COMPL", limit=50)}
    assert started["id"] in {run["id"] for run in process.list_process_runs_in_workspace(limit=50)}

    items = process.list_process_work_items(include_data=True)
    mine = [item for item in items if item["id"] == started["workItemIds"][0]]
    assert mine and mine[0]["payload"] == {"invoice": "INV-42"} and mine[0]["state"] == "COMPLETED"
    assert mine[0]["processRunId"] == started["id"] and mine[0]["activityRunId"]
    assert process.list_process_work_items(item_state="COMPLETED")
    assert "payload" not in process.list_process_work_items()[0]

    run_items = process.list_process_run_work_items(process_run_id=started["id"], include_data=True)
    assert [item["payload"] for item in run_items] == [{"invoice": "INV-42"}]


def test_failed_run_reports_err_and_its_work_item_can_be_retried(sandbox: SandboxProcess) -> None:
    sandbox.configure(time_scale=20)
    process = _process(sandbox)
    started = process.start_process({"sandbox": {"outcome": "fail"}})
    status = _wait_for(process, started["id"])
    assert (status["state"], status["result"], status["errorCode"]) == ("COMPL", "err", "ROBOT_FAILURE")

    failed = process.list_process_work_items(item_state="FAILED")
    item_id = started["workItemIds"][0]
    assert item_id in {item["id"] for item in failed}
    item = process.get_work_item(item_id, include_data=True)
    assert item["exception"]["code"] == "ROBOT_FAILURE"

    assert process.retry_work_item(item_id)["id"] == item_id
    status = _wait_for(process, started["id"])
    assert (status["state"], status["result"]) == ("COMPL", "ok")


def test_artifacts_processes_and_input_items_with_files(sandbox: SandboxProcess, tmp_path: Path) -> None:
    sandbox.configure(time_scale=20)
    process = _process(sandbox)
    assert process.get_process_id_by_name("Invoice Processing") == os.environ["CONTROLROOM_PROCESS_ID"]
    assert {p["name"] for p in process.list_processes()} >= {"Invoice Processing", "Report Generation"}

    attachment = tmp_path / "invoice.txt"
    attachment.write_text("INV-7 total 100 EUR")
    item_id = process.create_input_work_item(payload={"invoice": "INV-7"}, files=str(attachment))
    item = process.get_work_item(item_id, include_data=True)
    assert item["state"] == "NEW" and item["files"][0]["fileName"] == "invoice.txt"

    answer = process.start_configured_process(config_type="work_items", extra_info=[item_id])
    assert item_id in answer  # the raw response text names the run's work items
    run_id = process.get_work_item(item_id)["processRunId"]
    _wait_for(process, run_id)

    step_run_id = process.get_work_item(item_id)["activityRunId"]
    artifacts = process.list_run_artifacts(run_id, step_run_id)
    log_html = next(a for a in artifacts if a["fileName"] == "log.html")
    url = process.get_robot_run_artifact(run_id, step_run_id, log_html["id"], "log.html")
    download = requests.get(url, timeout=10)
    assert download.status_code == 200 and b"Invoice Processing" in download.content
    assert process.get_process_run_status(run_id, step_run_id)["state"] == "COMPL"


def test_host_from_rc_api_process_host_and_a_key_without_trigger_permission(
    sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Inside Control Room the library finds the API through RC_API_PROCESS_HOST.
    monkeypatch.setenv("RC_API_PROCESS_HOST", os.environ["CONTROLROOM_URL"])
    process = process_module.Process(
        workspace_id=os.environ["CONTROLROOM_WORKSPACE_ID"],
        process_id=os.environ["CONTROLROOM_PROCESS_ID"],
        workspace_api_key=os.environ["CONTROLROOM_READONLY_API_KEY"],
    )
    assert process.list_process_runs(limit=3)
    with pytest.raises(requests.HTTPError) as refused:
        process.start_process({"x": 1})
    assert refused.value.response.status_code == 403
    assert "Processes.trigger_processes" in refused.value.response.json()["error"]["message"]
