"""Robots inside sandbox runs, the way Control Room runs them: the unmodified ``RPA.Robocorp.WorkItems``
(RobocorpAdapter) reserves, releases and creates work items through the sandbox's worker-side API, with a
consumer step of three parallel executions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from Connectors.vendors.controlroom.client import ControlRoomClient
from connectors_sandbox.server import SandboxProcess

pytest.importorskip("RPA.Robocorp.WorkItems", reason="rpaframework is not installed")

PRODUCER = """*** Settings ***
Library    RPA.Robocorp.WorkItems

*** Tasks ***
Produce
    ${payload}=    Get Work Item Payload
    FOR    ${n}    IN RANGE    ${payload}[count]
        Create Output Work Item    variables=${{ {"n": $n} }}    save=${True}
    END
    Release Input Work Item    DONE
"""

CONSUMER = """*** Settings ***
Library    OperatingSystem
Library    RPA.Robocorp.WorkItems

*** Tasks ***
Consume
    For Each Input Work Item    Handle Item

*** Keywords ***
Handle Item
    ${payload}=    Get Work Item Payload
    IF    $payload["n"] == 4
        Release Input Work Item    FAILED    exception_type=BUSINESS    code=BAD_NUMBER    message=Four is not allowed
        RETURN
    END
    ${execution}=    Get Environment Variable    RC_ACTIVITY_RUN_ID
    Create Output Work Item    variables=${{ {"done": $payload["n"], "by": $execution} }}    save=${True}
    Release Input Work Item    DONE
"""


def _robot(folder: Path, name: str, text: str) -> list[str]:
    path = folder / f"{name}.robot"
    path.write_text(text)
    return [sys.executable, "-m", "robot", "--outputdir", "{ROBOT_ARTIFACTS}", "--report", "NONE", str(path)]


def test_parallel_consumers_take_every_item_exactly_once(sandbox: SandboxProcess, tmp_path: Path) -> None:
    steps = [
        {"name": "Produce", "command": _robot(tmp_path, "producer", PRODUCER)},
        {"name": "Consume", "command": _robot(tmp_path, "consumer", CONSUMER), "parallel": 3},
    ]
    sandbox.admin("POST", "/_sandbox/controlroom/processes", {"name": "Fan Out", "steps": steps})
    client = ControlRoomClient()
    run = client.trigger_run("Fan Out", {"count": 12})
    finished = client.wait_for_run(run["id"], timeout=240, poll_interval=0.5, max_interval=1, fail_on_unresolved=False)
    assert finished["state"] == "unresolved"  # item 4 failed with a business exception

    outputs = list(client.list_run_outputs(run["id"]))
    done = sorted(o["payload"]["done"] for o in outputs)
    assert done == [n for n in range(12) if n != 4]  # every item once, none twice
    steps_run = client.list_step_runs(run["id"])
    consumers = [s for s in steps_run if s["step"]["name"] == "Consume"]
    assert len(consumers) == 3 and {s["state"] for s in steps_run} == {"completed"}
    assert {o["payload"]["by"] for o in outputs} == {s["id"] for s in consumers}  # all three took items

    items = list(client.list_work_items(run_id=run["id"], limit=None))
    assert sorted(i["state"] for i in items).count("done") == 12  # the producer's input and 11 consumed
    (failed,) = [i for i in items if i["state"] == "failed"]
    assert failed["exception"] == {"type": "business", "code": "BAD_NUMBER", "message": "Four is not allowed"}
    assert failed["step_run"]["id"] in {s["id"] for s in consumers}

    # Retrying the failed item runs the consumer again for it alone: still unresolved (it fails again).
    client.retry_work_items([failed["id"]])
    again = client.wait_for_run(run["id"], timeout=120, poll_interval=0.5, max_interval=1, fail_on_unresolved=False)
    assert again["state"] == "unresolved" and len(list(client.list_run_outputs(run["id"]))) == 11
