"""The fan-out sample (robots/fanout_producer.robot, robots/fanout_consumer.robot) run the way Control Room
runs it: a process in the sandbox's Control Room with a producer step and a consumer step of 8 parallel
executions, each a real ``python -m robot`` whose unmodified ``RPA.Robocorp.WorkItems`` reserves and
releases items through the worker-side API. The consumers share one Robaws budget through a Redis the
test starts (``CONNECTORS_THROTTLE_STORE``, ``CONNECTORS_THROTTLE_WORKERS=8``).

The sandbox's Robaws runs at half its real limits (7.5/s, burst 10; the clients are told the same with
``ROBAWS_RATE_SCALE``) so that the budget, not the machine, limits the 8 consumers: on a busy 2-core
machine they book about 6 invoices a second, under Robaws' real 15/s, where 0 x 429 would prove nothing.
At this rate the same run without the shared store got 136 x 429 and failed items.

Exactly once is checked in Robaws itself: every invoice of the input is there once, none lost, none twice.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from Connectors import ControlRoomClient, RobawsClient
from Connectors.ControlRoom import ControlRoom
from connectors_sandbox.controlroom.model import ROBOT_FAILURE
from connectors_sandbox.server import SandboxProcess
from support.fanout import (
    CONSUMER,
    PROCESS,
    PRODUCER,
    ROOT,
    SUPPLIERS,
    invoice_rows,
    register_process,
    run_fan_out,
    wait,
    write_csv,
)
from support.redis_server import RedisServer, redis_or_skip

pytest.importorskip("RPA.Robocorp.WorkItems", reason="rpaframework is not installed")
pytestmark = pytest.mark.timeout(600)

CONSUMERS = 8
RATE_SCALE = 0.5
UNKNOWN_VAT = "BE0999000111"


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_or_skip() as server:
        yield server


def register(sandbox: SandboxProcess, redis: RedisServer, tmp_path: Path) -> None:
    sandbox.configure(rate_scale=RATE_SCALE)
    register_process(sandbox, tmp_path, redis.url, CONSUMERS, RATE_SCALE)


def booked_numbers(robaws: RobawsClient, prefix: str) -> Counter[tuple[Any, str]]:
    """(supplier id, invoice number) of every Robaws purchase invoice of this test, with how often it is there."""
    invoices = robaws.list("purchase-invoices", limit=None)
    return Counter((i["supplierId"], i["number"]) for i in invoices if str(i.get("number", "")).startswith(prefix))


def supplier_ids(robaws: RobawsClient) -> dict[str, Any]:
    return {s["vatNumber"]: s["id"] for s in robaws.list("suppliers", limit=None) if s.get("vatNumber")}


def expected(robaws: RobawsClient, rows: list[dict[str, str]]) -> Counter[tuple[Any, str]]:
    ids = supplier_ids(robaws)
    return Counter((ids[row["vatNumber"]], row["number"]) for row in rows)


def test_eight_consumers_book_every_invoice_exactly_once(
    sandbox: SandboxProcess, redis: RedisServer, tmp_path: Path
) -> None:
    register(sandbox, redis, tmp_path)
    rows = invoice_rows(200, "FO")
    controlroom = ControlRoomClient(rate_scale=RATE_SCALE)
    with RobawsClient(rate_scale=RATE_SCALE) as robaws:
        assert not booked_numbers(robaws, "FO-")
        before = sandbox.stats()["robaws"]["requests"]

        finished = run_fan_out(controlroom, write_csv(tmp_path / "invoices.csv", rows))

        used = sandbox.stats()["robaws"]["requests"] - before
        assert finished["state"] == "completed"
        assert booked_numbers(robaws, "FO-") == expected(robaws, rows)  # each invoice once: 0 lost, 0 twice
    stats = sandbox.stats()["robaws"]
    assert stats["rate_limited"] == 0
    assert stats.get("idempotent_replays", 0) == 0
    # One create per invoice, and at most one supplier lookup per supplier and consumer.
    assert len(rows) <= used <= len(rows) + len(SUPPLIERS) * CONSUMERS

    items = list(controlroom.list_work_items(run_id=finished["id"], limit=None))
    assert Counter(item["state"] for item in items) == {"done": 1 + len(rows)}  # the producer's input too
    outputs = [output["payload"] for output in controlroom.list_run_outputs(finished["id"])]
    assert sorted(o["supplierInvoiceNumber"] for o in outputs) == sorted(row["number"] for row in rows)
    assert len({o["robawsInvoiceId"] for o in outputs}) == len(rows)

    step_runs = controlroom.list_step_runs(finished["id"])
    consumers = [s for s in step_runs if s["step"]["name"] == "Consume"]
    assert len(consumers) == CONSUMERS and {s["state"] for s in step_runs} == {"completed"}
    consumer_ids = {s["id"] for s in consumers}
    by_consumer = Counter(i["step_run"]["id"] for i in items if (i["step_run"] or {}).get("id") in consumer_ids)
    assert len(by_consumer) > 1  # the work was shared out, not done by the first execution alone
    assert redis_keys(redis)  # the consumers kept their budget in the shared Redis, not each in memory


def redis_keys(server: RedisServer) -> list[bytes]:
    import redis

    with redis.Redis.from_url(server.url) as client:
        return list(client.scan_iter())


def consumer_pids(run_id: str) -> list[int]:
    """The consumer robots the sandbox runs for this run (found by the run id in their environment)."""
    pids = []
    for process in Path("/proc").iterdir():
        try:
            ours = f"RC_PROCESS_RUN_ID={run_id}".encode()
            robot = b"fanout_consumer.robot" in (process / "cmdline").read_bytes()
            if robot and ours in (process / "environ").read_bytes().split(b"\0"):
                pids.append(int(process.name))
        except (OSError, ValueError):
            continue  # gone meanwhile, or not a process
    return pids


def kill_consumers(sandbox: SandboxProcess, run_id: str, count: int) -> int:
    """``kill -9`` up to ``count`` consumers once they have booked a few invoices; how many were killed."""
    deadline = time.monotonic() + 120
    start = sandbox.stats()["robaws"]["requests"]
    while sandbox.stats()["robaws"]["requests"] - start < 12 and time.monotonic() < deadline:
        time.sleep(0.1)
    killed = 0
    for pid in consumer_pids(run_id)[:count]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed += 1
        time.sleep(0.5)
    return killed


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the consumers through /proc")
def test_killed_consumers_and_a_business_exception_retried_then_a_rerun_book_each_invoice_once(
    sandbox: SandboxProcess, redis: RedisServer, tmp_path: Path
) -> None:
    register(sandbox, redis, tmp_path)
    rows = invoice_rows(40, "FR")
    rows[17] |= {"vatNumber": UNKNOWN_VAT, "supplier": "Dakwerken Nieuw"}  # not a Robaws supplier yet
    invoices = write_csv(tmp_path / "invoices.csv", rows)
    controlroom = ControlRoomClient(rate_scale=RATE_SCALE)
    with RobawsClient(rate_scale=RATE_SCALE) as robaws:
        item = controlroom.create_work_item(PROCESS, {}, files=[str(invoices)])
        run_id = controlroom.trigger_run_with_work_items(PROCESS, [item["id"]])["id"]
        # Two consumers die mid-run: their reserved items fail (whether or not already booked), the sandbox
        # starts other executions for the rest, as Control Room does.
        assert kill_consumers(sandbox, run_id, 2) >= 1
        first = wait(controlroom, run_id)
        assert first["state"] == "unresolved"
        failed = list(controlroom.list_work_items(run_id=run_id, state="failed", limit=None))
        reasons = Counter((f["exception"]["type"], f["exception"]["code"]) for f in failed)
        assert reasons[("business", "INVALID_SUPPLIER_INVOICE")] == 1
        assert set(reasons) <= {("business", "INVALID_SUPPLIER_INVOICE"), ("application", ROBOT_FAILURE)}
        business = next(f for f in failed if f["exception"]["type"] == "business")
        assert business["exception"]["message"] == f"Robaws has no single supplier with VAT number {UNKNOWN_VAT}."
        booked = booked_numbers(robaws, "FR-")
        known = [row for row in rows if row["vatNumber"] != UNKNOWN_VAT]
        assert set(booked.values()) == {1} and set(booked) <= set(expected(robaws, known))  # nothing twice

        # Someone adds the supplier in Robaws, then retries the failed items with the keyword.
        robaws.create("suppliers", {"name": "Dakwerken Nieuw", "vatNumber": UNKNOWN_VAT})
        ControlRoom(rate_scale=RATE_SCALE).run_keyword("retry_work_items", [failed], {})  # Retry Work Items
        assert wait(controlroom, run_id)["state"] == "completed"
        assert booked_numbers(robaws, "FR-") == expected(robaws, rows)

        # The whole process run again on the same file: every create is replayed, nothing is booked twice.
        replays = sandbox.stats()["robaws"].get("idempotent_replays", 0)
        again = run_fan_out(controlroom, invoices)
        assert again["state"] == "completed"
        assert booked_numbers(robaws, "FR-") == expected(robaws, rows)
        assert sandbox.stats()["robaws"]["idempotent_replays"] - replays == len(rows)
    assert sandbox.stats()["robaws"]["rate_limited"] == 0


# -- the robots run locally, the way rcc runs them (FileAdapter, devdata) ------------------------------


def run_local(
    sandbox: SandboxProcess, task: str, artifacts: Path, input_path: Path | None = None
) -> tuple[int, str, list[dict[str, Any]] | None]:
    """Run robot.yaml's ``task`` as rcc runs it (devdata, the FileAdapter) against the test's sandbox; its exit
    code, output.xml and output work items (None when it wrote none)."""
    sys.path.insert(0, str(ROOT / "tests" / "robots"))
    from run_tasks import one_task

    command, env = one_task(task, artifacts, sandbox.environment())
    if input_path:
        env["RPA_INPUT_WORKITEM_PATH"] = str(input_path)
    code = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False).returncode
    produced = artifacts / "work-items-out" / ("fanout" if task == PRODUCER else "fanout-consumer") / "work-items.json"
    outputs = json.loads(produced.read_text()) if produced.exists() else None
    return code, (artifacts / "output.xml").read_text(), outputs


def input_item(folder: Path, payload: dict[str, Any], files: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in (files or {}).items():
        (folder / name).write_bytes(content)
    path = folder / "work-items.json"
    path.write_text(json.dumps([{"payload": payload, "files": {name: name for name in files or {}}}]))
    return path


def xlsx(rows: list[dict[str, Any]]) -> bytes:
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_devdata_consumer_input_is_what_the_producer_makes_of_the_devdata_input(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    code, _log, outputs = run_local(sandbox, PRODUCER, tmp_path)
    assert code == 0
    committed = json.loads((ROOT / "devdata" / "work-items-in" / "fanout-consumer" / "work-items.json").read_text())
    assert outputs == committed


def test_run_after_the_producer_in_one_artifacts_folder_the_consumer_books_its_output(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    """As rcc runs the two tasks one after the other (both write to output/): no copying of files between them."""
    rows = invoice_rows(3, "SH")
    code, _log, produced = run_local(sandbox, PRODUCER, tmp_path / "output", input_item(tmp_path, {"invoices": rows}))
    assert code == 0 and produced and len(produced) == 3
    code, _log, booked = run_local(sandbox, CONSUMER, tmp_path / "output")
    assert code == 0
    assert [item["payload"]["supplierInvoiceNumber"] for item in booked or []] == ["SH-0000", "SH-0001", "SH-0002"]


def test_the_producer_reads_csv_excel_json_and_payload_rows_alike(sandbox: SandboxProcess, tmp_path: Path) -> None:
    rows = invoice_rows(3, "IN")
    typed = [dict(row, totalExclVat=float(row["totalExclVat"])) for row in rows]
    excel_rows = [dict(row, date=datetime.date(2024, 6, 3)) for row in typed]  # Excel has dates and numbers
    inputs = {
        "csv": input_item(tmp_path / "csv", {}, {"invoices.csv": write_csv(tmp_path / "i.csv", rows).read_bytes()}),
        "xlsx": input_item(tmp_path / "xlsx", {}, {"invoices.xlsx": xlsx(excel_rows)}),
        "json": input_item(tmp_path / "json", {}, {"invoices.json": json.dumps(typed).encode()}),
        "payload": input_item(tmp_path / "payload", {"invoices": rows + rows[:1]}),  # a repeated row counts once
    }
    results = {kind: run_local(sandbox, PRODUCER, tmp_path / f"out-{kind}", path) for kind, path in inputs.items()}
    assert {kind: code for kind, (code, _log, _outputs) in results.items()} == dict.fromkeys(inputs, 0)
    payloads = {kind: [item["payload"] for item in outputs or []] for kind, (_c, _l, outputs) in results.items()}
    assert payloads["csv"][0] == {
        "supplier": {"name": "Bouwmaterialen Peeters", "vatNumber": "BE0400123450"},
        "invoice": {
            "number": "IN-0000",
            "date": "2024-06-03",
            "dueDate": "2024-07-03",
            "currency": "EUR",
            "totalExclVat": 100.0,
            "description": "Order 0",
        },
    }
    assert len(payloads["csv"]) == 3 and all(p == payloads["csv"] for p in payloads.values())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda rows: rows.append(dict(rows[1], totalExclVat="999.00")),
            "The invoice file cannot be fanned out: rows 2 and 4 differ for invoice IN-0001 of BE0400123451.",
        ),
        (
            lambda rows: rows[2].pop("date"),
            "The invoice file cannot be fanned out: row 3 lacks date.",
        ),
    ],
    ids=["two different rows for one invoice", "a required column missing"],
)
def test_the_producer_refuses_a_file_it_cannot_fan_out_and_creates_nothing(
    sandbox: SandboxProcess, tmp_path: Path, change: Callable[[list[dict[str, str]]], Any], message: str
) -> None:
    rows = invoice_rows(3, "IN")
    change(rows)
    path = input_item(tmp_path / "in", {"invoices": rows})
    code, log, outputs = run_local(sandbox, PRODUCER, tmp_path / "out", path)
    assert code == 1 and outputs is None  # not one output work item
    assert f"exception: {{'type': 'BUSINESS', 'code': 'INVALID_INVOICE_FILE', 'message': '{message}'}}" in log


def test_the_consumer_fails_only_the_invoices_it_cannot_book_as_business_exceptions(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    rows = invoice_rows(5, "BX")
    rows[1]["vatNumber"] = UNKNOWN_VAT
    rows[2]["totalExclVat"] = "12,50"
    rows[3].pop("date")
    payloads = [
        {
            "supplier": {"name": row["supplier"], "vatNumber": row["vatNumber"]},
            "invoice": {k: v for k, v in row.items() if k not in ("supplier", "vatNumber")},
        }
        for row in rows
    ]
    path = tmp_path / "in" / "work-items.json"
    path.parent.mkdir()
    path.write_text(json.dumps([{"payload": payload, "files": {}} for payload in payloads]))
    code, log, outputs = run_local(sandbox, CONSUMER, tmp_path / "out", path)
    assert code == 0  # failed items are released FAILED; the robot goes on with the next one
    assert [item["payload"]["supplierInvoiceNumber"] for item in outputs or []] == ["BX-0000", "BX-0004"]
    for reason in (
        f"Robaws has no single supplier with VAT number {UNKNOWN_VAT}.",
        'Invoice BX-0002: the amount "12,50" is not a number.',
        "Invoice BX-0003 lacks date.",
    ):
        assert f"'type': 'BUSINESS', 'code': 'INVALID_SUPPLIER_INVOICE', 'message': '{reason}'" in log
    with RobawsClient() as robaws:
        assert sorted(number for _supplier, number in booked_numbers(robaws, "BX-")) == ["BX-0000", "BX-0004"]


def test_the_consumer_books_each_invoice_to_the_supplier_with_its_vat_number(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    """Robaws has no VAT filter and ignores ``vatNumber=``, as the sandbox does. Among several suppliers - and a
    decoy one digit off, and a second supplier with one invoice's VAT number written another way - each
    invoice goes to the supplier with its VAT number; the ambiguous one is a business exception."""
    rows = invoice_rows(5, "VT")  # one invoice per demo supplier
    twin = rows[4]["vatNumber"]
    with RobawsClient() as robaws:
        ids = supplier_ids(robaws)
        robaws.create("suppliers", {"name": "Decoy BV", "vatNumber": rows[0]["vatNumber"][:-1] + "9"})
        robaws.create("suppliers", {"name": "Twin BV", "vatNumber": f"{twin[:2]} {twin[2:6]}.{twin[6:]}"})
        code, _log, produced = run_local(
            sandbox, PRODUCER, tmp_path / "output", input_item(tmp_path, {"invoices": rows})
        )
        assert code == 0 and produced and len(produced) == 5
        code, log, _booked = run_local(sandbox, CONSUMER, tmp_path / "output")
        assert code == 0  # failed items are released FAILED; the task itself passes
        assert booked_numbers(robaws, "VT-") == Counter((ids[r["vatNumber"]], r["number"]) for r in rows[:4])
    assert f"Robaws has no single supplier with VAT number {twin}." in log
