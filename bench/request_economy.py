"""Requests per business object of each sample robot, counted from the sandbox's stats (a section of scale.py,
and a command of its own: ``python bench/request_economy.py [--invoices 100] [--tasks …] [--fanout-invoices 0]``).

Every task of robot.yaml runs as rcc would run it (devdata, the sandbox with demo data, reset before each)
and the sandbox counts the requests it served per vendor; the business objects are counted in the vendor
afterwards: Robaws purchase invoices booked (the purchase-invoice and Robostack robots), Robaws sales
invoices (Cobot billing), Control Room runs started (the dispatcher, one per row). The fan-out runs as a
Control Room process of the sandbox - the producer, then 8 parallel consumers sharing one Redis budget -
on ``--fanout-invoices`` invoices at Robaws' real limits; its Control Room requests are the worker-side
API's (reserve, payload, release, outputs) plus the trigger and the wait.

The purchase-invoice robots also run on ``--invoices`` generated invoices (the demo suppliers in turn, the
devdata PDFs), where the per-run requests (the supplier index, the document bucket) weigh least. The issue's
targets: at most 4.0 Robaws requests per invoice on the 3-invoice demo, at most 3.5 on 100 invoices.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _support import ROOT
from Connectors.vendors import VENDORS as REGISTRY
from support import fanout
from support.redis_server import RedisServer

sys.path.insert(0, str(ROOT / "tests" / "robots"))

VENDORS = tuple(vendor.key for vendor in REGISTRY)
CONSUMERS = 8
Row = list[object]


def _robaws_count(collection: str) -> Callable[[], int]:
    def count() -> int:
        from Connectors import RobawsClient

        with RobawsClient() as client:
            return sum(1 for _ in client.list(collection, limit=None))

    return count


def _runs_count() -> int:
    from Connectors import ControlRoomClient

    return sum(1 for _ in ControlRoomClient().list_runs(limit=None))


# robot.yaml task, what it handles, the vendor it spends its budget on, how to count what it handled
TASKS: list[tuple[str, str, str, Callable[[], int]]] = [
    ("Robaws Purchase Invoices", "purchase invoice", "robaws", _robaws_count("purchase-invoices")),
    ("Robaws Purchase Invoices In Python", "purchase invoice", "robaws", _robaws_count("purchase-invoices")),
    ("Cobot Invoices To Robaws", "sales invoice", "robaws", _robaws_count("sales-invoices")),
    ("Robostack Orders To Robaws", "order", "robaws", _robaws_count("purchase-invoices")),
    ("Control Room Dispatcher", "dispatched row", "controlroom", _runs_count),
]


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """The sandbox's variables in this process (the counting clients read them), without a throttle store."""
    saved = dict(os.environ)
    for name in ("CONNECTORS_THROTTLE_STORE", "CONNECTORS_THROTTLE_WORKERS"):
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _counts(sandbox: Any) -> dict[tuple[str, str], int]:
    """(vendor, "requests" | "rate_limited") -> the sandbox's count so far."""
    stats = sandbox.stats()
    return {(v, k): int(stats.get(v, {}).get(k, 0)) for v in VENDORS for k in ("requests", "rate_limited")}


@contextmanager
def _counting(sandbox: Any) -> Iterator[dict[tuple[str, str], int]]:
    """What the sandbox counted while the block ran (filled in when it ends)."""
    spent: dict[tuple[str, str], int] = {}
    before = _counts(sandbox)
    yield spent
    spent.update({key: value - before[key] for key, value in _counts(sandbox).items()})


def _rows(robot: str, per: str, objects: int, spent: dict[tuple[str, str], int], main: str) -> list[Row]:
    """One row per vendor the robot spoke to, the vendor whose budget it spends first."""
    rows: list[Row] = []
    for vendor in [main] + [v for v in VENDORS if v != main and spent[v, "requests"]]:
        requests = spent[vendor, "requests"]
        per_object = requests / objects if objects else "n/a"
        rows.append([robot, per, objects, vendor, requests, per_object, spent[vendor, "rate_limited"]])
    return rows


def _run_task(sandbox: Any, name: str, artifacts: Path, extra: dict[str, str] | None = None) -> int:
    import subprocess

    from run_tasks import one_task

    command, env = one_task(name, artifacts, sandbox.environment())
    env.update(extra or {})
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False, timeout=1800).returncode


PURCHASE_TASKS = ("Robaws Purchase Invoices", "Robaws Purchase Invoices In Python")
DEMO_INPUT = ROOT / "devdata" / "work-items-in" / "supplier-invoices"
# The demo tenant's suppliers by VAT number (src/connectors_sandbox/robaws/demo.py).
DEMO_VATS = [f"BE0{400123450 + n}" for n in range(5)]


def invoice_work_items(folder: Path, count: int) -> Path:
    """``count`` supplier-invoice work items (the demo suppliers in turn, each with a devdata PDF)."""
    pdfs = sorted(DEMO_INPUT.glob("*.pdf"))
    items = []
    for n in range(count):
        pdf = pdfs[n % len(pdfs)]
        invoice = {"number": f"ECO-{n:04d}", "date": "2024-06-03", "currency": "EUR", "totalExclVat": 100 + n}
        items.append(
            {
                "payload": {"supplier": {"vatNumber": DEMO_VATS[n % len(DEMO_VATS)]}, "invoice": invoice},
                "files": {f"ECO-{n:04d}.pdf": str(pdf)},
            }
        )
    path = folder / "work-items.json"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(items))
    return path


def economy_section(args: argparse.Namespace) -> tuple[str, list[str], list[Row]]:
    from connectors_sandbox.server import SandboxProcess

    rows: list[Row] = []
    selected = [name.strip() for name in getattr(args, "tasks", "").split(",") if name.strip()]
    invoices = getattr(args, "invoices", 100)
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxProcess(demo=True) as sandbox,
        _environment(sandbox.environment()),
    ):
        for task, per, vendor, count in TASKS:
            if selected and task not in selected:
                continue
            runs: list[tuple[str, dict[str, str]]] = [(task, {})]
            if task in PURCHASE_TASKS and invoices:
                folder = Path(tmp) / f"input-{invoices}"
                path = invoice_work_items(folder, invoices)
                inputs = {"RPA_INPUT_WORKITEM_PATH": str(path), "RC_WORKITEM_INPUT_PATH": str(path)}
                runs.append((f"{task}, {invoices} invoices", inputs))
            for label, extra in runs:
                sandbox.reset(demo=True)
                objects_before = count()
                with _counting(sandbox) as spent:
                    code = _run_task(sandbox, task, Path(tmp) / label.replace(" ", "_").replace(",", ""), extra)
                objects = count() - objects_before
                shown = label if code == 0 else f"{label} (exit code {code})"
                rows += _rows(shown, per, objects, spent, vendor)
                per_object = spent[vendor, "requests"] / objects if objects else 0
                print(
                    f"  {label}: {objects} {per}(s), {spent[vendor, 'requests']} {vendor} requests, "
                    f"{per_object:.2f} per {per}",
                    flush=True,
                )
        if args.fanout_invoices:
            rows += _fan_out(sandbox, Path(tmp), args.fanout_invoices)
    title = (
        "Requests per business object of each sample robot, counted by the sandbox (demo data, devdata input; "
        f"the fan-out: {args.fanout_invoices} invoices, a producer and {CONSUMERS} consumers sharing one Redis "
        "budget at Robaws' real limits)."
    )
    headers = ["robot", "per", "objects", "vendor", "requests", "per object", "429s"]
    return title, headers, rows


def _fan_out(sandbox: Any, folder: Path, count: int) -> list[Row]:
    from Connectors import ControlRoomClient

    with RedisServer() as redis:
        if not redis.available:
            print("  (redis-server not installed: the fan-out row is skipped)")
            return []
        sandbox.reset(demo=True)
        fanout.register_process(sandbox, folder, redis.url, CONSUMERS, rate_scale=1.0)
        invoices = fanout.write_csv(folder / "invoices.csv", fanout.invoice_rows(count, "BENCH"))
        booked_before = _robaws_count("purchase-invoices")()
        started = time.monotonic()
        with _counting(sandbox) as spent:
            run = fanout.run_fan_out(ControlRoomClient(), invoices)
        seconds = time.monotonic() - started
        booked = _robaws_count("purchase-invoices")() - booked_before
    label = f"fan-out, {CONSUMERS} consumers ({run['state']}, {seconds:.0f} s)"
    print(f"  fan-out: {booked} invoice(s), {spent['robaws', 'requests']} robaws requests, {seconds:.1f} s", flush=True)
    return _rows(label, "invoice", booked, spent, "robaws")


def main() -> None:
    from _support import print_table

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100, help="generated invoices for the purchase robots")
    parser.add_argument("--tasks", default="", help="robot.yaml tasks to run, comma-separated (default: all)")
    parser.add_argument("--fanout-invoices", type=int, default=200, help="invoices of the fan-out (0: skip it)")
    args = parser.parse_args()
    title, headers, rows = economy_section(args)
    print()
    print(title)
    print_table(headers, rows)


if __name__ == "__main__":
    main()
