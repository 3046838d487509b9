"""The sample robot "Cobot Invoices To Robaws": one run bills last month's Cobot invoices in Robaws with at
most 3 Cobot requests (API 2), a second run creates nothing new."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from Connectors import RobawsClient
from connectors_sandbox.server import SandboxProcess

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "robots"))

from run_tasks import task_environment  # noqa: E402


def run_robot(sandbox: SandboxProcess, artifacts: Path) -> subprocess.CompletedProcess[str]:
    robot = yaml.safe_load((ROOT / "robot.yaml").read_text())
    env = task_environment(robot, artifacts, sandbox.environment())
    command = [
        sys.executable,
        "-m",
        "robot",
        "--report",
        "NONE",
        "--outputdir",
        str(artifacts),
        "robots/cobot_invoices_to_robaws.robot",
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def robaws_state() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with RobawsClient() as robaws:
        clients = list(robaws.list("clients", include="extraFields"))
        invoices = list(robaws.list("sales-invoices", include="extraFields"))
    return clients, invoices


def test_a_rerun_creates_nothing_new(sandbox: SandboxProcess, tmp_path: Path) -> None:
    clients_before, invoices_before = robaws_state()
    first = run_robot(sandbox, tmp_path / "first")
    assert first.returncode == 0, first.stdout[-3000:]
    assert "6 Cobot invoice(s)" in first.stdout
    # Cobot through API 2: the space resolved once, one page of invoices, one of memberships.
    cobot_requests = int(re.search(r"(\d+) Cobot requests?", first.stdout).group(1))  # type: ignore[union-attr]
    print(f"\nCobot requests of the robot for the demo month: {cobot_requests}")
    assert cobot_requests <= 3
    clients, invoices = robaws_state()
    new_clients = [c for c in clients if "Cobot membership id" in (c.get("extraFields") or {})]
    new_invoices = [i for i in invoices if "Cobot invoice id" in (i.get("extraFields") or {})]
    assert len(clients) == len(clients_before) + 6 and len(new_clients) == 6
    assert len(invoices) == len(invoices_before) + 6 and len(new_invoices) == 6
    carla = next(c for c in new_clients if c["name"] == "Jansen Design")
    carla_invoice = next(i for i in new_invoices if i["clientId"] == carla["id"])
    assert carla_invoice["totalExclVat"] == 965.0 and len(carla_invoice["lineItems"]) == 2

    replays_before = sandbox.stats()["robaws"].get("idempotent_replays", 0)
    second = run_robot(sandbox, tmp_path / "second")
    assert second.returncode == 0, second.stdout[-3000:]
    assert "Created Robaws client" not in second.stdout
    assert robaws_state() == (clients, invoices)
    # Each sales invoice came back from its idempotency key instead of being created again.
    assert sandbox.stats()["robaws"]["idempotent_replays"] - replays_before == 6
