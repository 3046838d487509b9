"""The "Robostack Orders To Robaws" sample robot against the sandbox: it invoices every pending order
once, and running it again (also after a stop between creating an invoice and marking the order)
creates no new Robaws invoice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from Connectors import RobawsClient, RobostackClient
from connectors_sandbox.server import SandboxProcess

ROOT = Path(__file__).resolve().parents[2]
ROBOT = ROOT / "robots" / "robostack_orders_to_robaws.robot"


@pytest.fixture
def chained(sandbox: SandboxProcess) -> SandboxProcess:
    vendors = sandbox.admin("GET", "/_sandbox/config")["vendors"]
    if not {"robostack", "robaws"} <= set(vendors):
        pytest.skip("the sandbox runs without Robaws or Robostack (CONNECTORS_SANDBOX_VENDORS)")
    return sandbox


def run_robot(output: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        RPA_SECRET_FILE=str(ROOT / "devdata" / "vault.json"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "robots")]),
    )
    env.pop("RPA_SECRET_MANAGER", None)
    env.pop("RC_VAULT_SECRETS_FILE", None)
    return subprocess.run(
        [sys.executable, "-m", "robot", "--outputdir", str(output), "--report", "NONE", str(ROBOT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def purchase_invoices() -> list[dict]:
    return list(RobawsClient().list("purchase-invoices"))


def test_orders_become_invoices_once(chained: SandboxProcess, tmp_path: Path) -> None:
    robostack = RobostackClient()
    pending = robostack.find("orders", status="pending")
    assert len(pending) == 5
    before = purchase_invoices()

    first = run_robot(tmp_path / "first")
    assert first.returncode == 0, first.stdout + first.stderr
    after_first = purchase_invoices()
    new = [inv for inv in after_first if inv["id"] not in {b["id"] for b in before}]
    assert len(new) == 5
    assert robostack.count("orders", status="pending") == 0
    by_number = {inv["number"]: inv for inv in new}
    for order in pending:
        marked = robostack.get("orders", order["id"])
        invoice = by_number[order["order_number"]]
        assert marked["status"] == "invoiced"
        assert marked["robaws_invoice_id"] == invoice["id"]
        assert invoice["supplierId"] == order["supplier_id"]
        assert invoice["totalExclVat"] == order["amount"]

    second = run_robot(tmp_path / "second")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "0 pending order(s)" in second.stdout
    assert len(purchase_invoices()) == len(after_first)

    # A run that stopped after creating the invoice but before marking the order: the order is still
    # pending, and the next run gets the same invoice back through the idempotency key.
    order = pending[0]
    robostack.update("orders", {"id": order["id"]}, {"status": "pending", "robaws_invoice_id": None})
    third = run_robot(tmp_path / "third")
    assert third.returncode == 0, third.stdout + third.stderr
    assert len(purchase_invoices()) == len(after_first)
    assert robostack.get("orders", order["id"])["robaws_invoice_id"] == by_number[order["order_number"]]["id"]
    assert chained.stats()["idempotent_replays"] >= 1

    for run in ("first", "second", "third"):
        text = (tmp_path / run / "output.xml").read_text(encoding="utf-8")
        for secret in (
            os.environ["ROBOSTACK_API_SECRET"],
            os.environ["ROBOSTACK_API_KEY"],
            os.environ["ROBAWS_PASSWORD"],
        ):
            assert secret not in text
