"""The sample robot robots/robaws_purchase_invoices.robot, run twice on the same input the way rcc runs it:
the second run must find what the first created and create no duplicate invoice, document or approval."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from Connectors import RobawsClient
from connectors_sandbox.server import SandboxProcess

ROOT = Path(__file__).resolve().parents[2]
INPUT = ROOT / "devdata" / "work-items-in" / "supplier-invoices"
TASK = "Robaws Purchase Invoices"

pytestmark = pytest.mark.timeout(300)


def _run_tasks_module() -> Any:
    spec = importlib.util.spec_from_file_location("run_tasks", ROOT / "tests" / "robots" / "run_tasks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: its dataclasses look their module up in sys.modules.
    sys.modules.setdefault("run_tasks", module)
    spec.loader.exec_module(module)
    return module


def run_robot(
    sandbox: SandboxProcess, artifacts: Path, input_path: Path | None = None, succeed: bool = True
) -> list[dict[str, Any]]:
    robot = yaml.safe_load((ROOT / "robot.yaml").read_text())
    env = _run_tasks_module().task_environment(robot, artifacts, sandbox.environment())
    if input_path:
        env["RPA_INPUT_WORKITEM_PATH"] = str(input_path)
    command = [sys.executable if part == "python" else str(part) for part in robot["tasks"][TASK]["command"]]
    command[command.index("--outputdir") + 1] = str(artifacts)
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert (result.returncode == 0) == succeed, result.stdout[-3000:] + result.stderr[-3000:]
    outputs = json.loads((artifacts / "work-items-out" / "supplier-invoices" / "work-items.json").read_text())
    return [item["payload"] for item in outputs]


def test_second_run_creates_no_duplicates(sandbox: SandboxProcess, tmp_path: Path) -> None:
    inputs = json.loads((INPUT / "work-items.json").read_text())
    with RobawsClient() as robaws:
        invoices_before = len(list(robaws.list("purchase-invoices")))

        first = run_robot(sandbox, tmp_path / "first")
        numbers = [item["payload"]["invoice"]["number"] for item in inputs]
        assert [output["supplierInvoiceNumber"] for output in first] == numbers
        assert {o["approvalStatus"] for o in first} == {"PENDING"}
        documents_after_first = len(sandbox.admin("GET", "/_sandbox/robaws/documents"))

        second = run_robot(sandbox, tmp_path / "second")
        assert second == first  # the same Robaws ids, documents and states

        invoices = list(robaws.list("purchase-invoices"))
        assert len(invoices) == invoices_before + len(inputs)
        assert len(sandbox.admin("GET", "/_sandbox/robaws/documents")) == documents_after_first
        vat_of = {s["id"]: s["vatNumber"] for s in robaws.list("suppliers", limit=None)}
        for output, item in zip(first, inputs, strict=True):
            invoice = robaws.get("purchase-invoices", output["robawsInvoiceId"])
            assert vat_of[invoice["supplierId"]] == item["payload"]["supplier"]["vatNumber"]
            assert invoice["documentId"] == output["documentId"]
            assert invoice["approvalStatus"] == "PENDING"
    assert sandbox.stats()["robaws"].get("idempotent_replays", 0) >= len(inputs)
    assert sandbox.stats()["robaws"]["rate_limited"] == 0


def test_an_unknown_supplier_fails_only_its_work_item(sandbox: SandboxProcess, tmp_path: Path) -> None:
    items = json.loads((INPUT / "work-items.json").read_text())[:2]
    items[1]["payload"]["supplier"]["vatNumber"] = "BE0999999999"
    for item in items:
        item["files"] = {name: str(INPUT / path) for name, path in item["files"].items()}
    input_path = tmp_path / "in" / "work-items.json"
    input_path.parent.mkdir()
    input_path.write_text(json.dumps(items))
    outputs = run_robot(sandbox, tmp_path / "run", input_path, succeed=False)
    booked = [output["supplierInvoiceNumber"] for output in outputs]
    assert booked == [items[0]["payload"]["invoice"]["number"]]
    log = (tmp_path / "run" / "output.xml").read_text()
    assert "Expected one Robaws supplier with VAT number BE0999999999, found 0." in log


def run_task(sandbox: SandboxProcess, task: str, artifacts: Path, succeed: bool) -> list[dict[str, Any]]:
    """Any task of robot.yaml with this interpreter, as rcc runs it (its command, devdata, the sandbox)."""
    command, env = _run_tasks_module().one_task(task, artifacts, sandbox.environment())
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert (result.returncode == 0) == succeed, result.stdout[-3000:] + result.stderr[-3000:]
    outputs = json.loads((artifacts / "work-items-out" / "supplier-invoices" / "work-items.json").read_text())
    return [item["payload"] for item in outputs]


@pytest.mark.parametrize("task", [TASK, "Robaws Purchase Invoices In Python"])
def test_each_invoice_is_booked_to_the_supplier_with_its_vat_number(
    sandbox: SandboxProcess, tmp_path: Path, task: str
) -> None:
    """Robaws has no filter on a supplier's VAT number and ignores what it does not know, as the sandbox does:
    the robot must pick the supplier itself, among several, and never one whose VAT number differs."""
    inputs = json.loads((INPUT / "work-items.json").read_text())
    vats = [item["payload"]["supplier"]["vatNumber"] for item in inputs]
    with RobawsClient() as robaws:
        suppliers = list(robaws.list("suppliers", limit=None))
        assert len(suppliers) >= 5
        assert len(list(robaws.list("suppliers", limit=None, vatNumber=vats[1]))) == len(suppliers)  # ignored
        # A newer supplier whose VAT number differs by one digit, and a second supplier with the third
        # invoice's VAT number written another way: that invoice cannot be booked until someone merges them.
        robaws.create("suppliers", {"name": "Decoy BV", "vatNumber": vats[0][:-1] + "9"})
        robaws.create("suppliers", {"name": "Twin BV", "vatNumber": f"{vats[2][:2]} {vats[2][2:6]}.{vats[2][6:]}"})
        by_vat = {s["vatNumber"]: s["id"] for s in suppliers}

        outputs = run_task(sandbox, task, tmp_path / "run", succeed=False)

        assert [o["supplierInvoiceNumber"] for o in outputs] == [i["payload"]["invoice"]["number"] for i in inputs[:2]]
        for output, vat in zip(outputs, vats, strict=False):
            assert output["supplierId"] == by_vat[vat]
            assert robaws.get("purchase-invoices", output["robawsInvoiceId"])["supplierId"] == by_vat[vat]
    logs = "".join(path.read_text(errors="replace") for path in (tmp_path / "run").rglob("*") if path.is_file())
    assert f"Expected one Robaws supplier with VAT number {vats[2]}, found 2." in logs
