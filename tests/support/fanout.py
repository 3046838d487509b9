"""The fan-out sample as a Control Room process of a sandbox: a producer step and a consumer step of N
parallel executions (robot.yaml's tasks "Fan-Out Producer" and "Fan-Out Consumer"), for its test and for
``bench/scale.py``."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from Connectors import ControlRoomClient
    from connectors_sandbox.server import SandboxProcess

ROOT = Path(__file__).resolve().parents[2]
PROCESS = "Supplier Invoices Fan-Out"
PRODUCER, CONSUMER = "Fan-Out Producer", "Fan-Out Consumer"  # robot.yaml's tasks
# The demo tenant's suppliers (src/connectors_sandbox/robaws/demo.py), by VAT number.
NAMES = ["Bouwmaterialen Peeters", "Elektro Janssens", "Sanitair De Smet", "Van Dyck Tools", "Isolatie Maes"]
SUPPLIERS = {f"BE0{400123450 + n}": name for n, name in enumerate(NAMES)}


def invoice_rows(count: int, prefix: str) -> list[dict[str, str]]:
    """``count`` supplier invoice rows of the demo suppliers, numbered ``<prefix>-0000`` on."""
    vats = list(SUPPLIERS)
    return [
        {
            "supplier": SUPPLIERS[vats[n % len(vats)]],
            "vatNumber": vats[n % len(vats)],
            "number": f"{prefix}-{n:04d}",
            "date": "2024-06-03",
            "dueDate": "2024-07-03",
            "currency": "EUR",
            "totalExclVat": f"{100 + n}.{n % 100:02d}",
            "description": f"Order {n}",
        }
        for n in range(count)
    ]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def register_process(
    sandbox: SandboxProcess,
    folder: Path,
    store_url: str | None,
    consumers: int,
    rate_scale: float,
    tell_workers: bool = True,
) -> None:
    """The fan-out as a Control Room process: the producer, then ``consumers`` parallel executions that share
    one Robaws budget in the throttle store ``store_url``. The Robaws credentials are in a Vault file (in
    Control Room: the Vault) written to ``folder``. ``store_url=None`` leaves the store out and
    ``tell_workers=False`` the worker count (bench/fanout_store.py's counter-factual rows)."""
    environment = sandbox.environment()
    vault = folder / "vault.json"
    credentials = {"username": environment["ROBAWS_USERNAME"], "password": environment["ROBAWS_PASSWORD"]}
    vault.write_text(json.dumps({"robaws": credentials}))
    env = {
        "ROBAWS_URL": environment["ROBAWS_URL"],
        "ROBAWS_RATE_SCALE": str(rate_scale),
        "RPA_SECRET_MANAGER": "RPA.Robocorp.Vault.FileSecrets",
        "RPA_SECRET_FILE": str(vault),
    }
    if store_url:
        env["CONNECTORS_THROTTLE_STORE"] = store_url
    if tell_workers:
        env["CONNECTORS_THROTTLE_WORKERS"] = str(consumers)

    # The steps are robot.yaml's tasks, run as Control Room runs them (each execution its own artifacts).
    robot_yaml = str(ROOT / "robot.yaml")
    steps = [
        {"name": "Produce", "robot_yaml": robot_yaml, "task": PRODUCER, "env": env},
        {"name": "Consume", "robot_yaml": robot_yaml, "task": CONSUMER, "env": env, "parallel": consumers},
    ]
    sandbox.admin("POST", "/_sandbox/controlroom/processes", {"name": PROCESS, "steps": steps})


def run_fan_out(controlroom: ControlRoomClient, invoices: Path) -> dict[str, Any]:
    """Start the process with the invoice file as its input work item and wait until it has finished."""
    item = controlroom.create_work_item(PROCESS, {}, files=[str(invoices)])
    run = controlroom.trigger_run_with_work_items(PROCESS, [item["id"]])
    return wait(controlroom, run["id"])


def wait(controlroom: ControlRoomClient, run_id: str) -> dict[str, Any]:
    return controlroom.wait_for_run(run_id, timeout=400, poll_interval=0.5, max_interval=1, fail_on_unresolved=False)
