"""Exactly-once Robostack creates under repeats (issue 11), against the sandbox's faults.

Robostack has no idempotency key. A create whose answer was lost fails with ``UncertainOutcome``; the
same create repeated in the same process looks for what the lost attempt wrote before writing again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from Connectors import RobostackClient
from Connectors.core.errors import ConnectorError, UncertainOutcome
from Connectors.core.repeats import journal
from Connectors.core.retry import RetryPolicy
from connectors_sandbox.server import SandboxProcess

T = TypeVar("T")
QUICK = RetryPolicy(max_attempts=5, backoff_base=0.01, backoff_cap=0.05)


def stored(sandbox: SandboxProcess, resource: str) -> list[dict[str, Any]]:
    app = os.environ["ROBOSTACK_APP_UUID"]
    return list(sandbox.admin("GET", f"/_sandbox/robostack/apps/{app}/{resource}"))


@pytest.fixture
def client(sandbox: SandboxProcess) -> Iterator[RobostackClient]:
    journal.clear()
    yield RobostackClient(rate_limit="off", retry=QUICK)
    sandbox.configure(faults="", seed=None)
    journal.clear()


def until_it_succeeds(call: Callable[[], T], attempts: int = 60) -> tuple[T, int]:
    """``Wait Until Keyword Succeeds`` in Python: the same call again after any failure."""
    for attempt in range(1, attempts + 1):
        try:
            return call(), attempt
        except ConnectorError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def test_a_repeat_after_a_lost_answer_returns_the_record_instead_of_creating_it_again(
    client: RobostackClient, sandbox: SandboxProcess
) -> None:
    order = {"order_number": "PO-2024-0900", "status": "pending", "lines": [{"sku": "A-1", "qty": 2}]}
    sandbox.configure(faults="lost=1.0", seed=1)
    with pytest.raises(UncertainOutcome) as raised:
        client.create("orders", order)
    assert "Repeat the same call in this robot" in str(raised.value)
    sandbox.configure(faults="")
    before = client.transport.stats["requests"]
    again = client.create("orders", order)
    # One find, no create: the record the lost attempt wrote, with its id.
    assert client.transport.stats["requests"] - before == 1
    matching = [r for r in stored(sandbox, "orders") if r.get("order_number") == "PO-2024-0900"]
    assert [again] == matching
    # Forgotten after the success: a deliberate second identical create creates a second record.
    second = client.create("orders", order)
    assert second["id"] != again["id"]
    assert len([r for r in stored(sandbox, "orders") if r.get("order_number") == "PO-2024-0900"]) == 2


def test_a_repeat_after_a_refused_attempt_creates(client: RobostackClient, sandbox: SandboxProcess) -> None:
    """A 502 before the emulation wrote anything: the repeat looks, finds nothing, creates once."""
    sandbox.configure(faults="5xx=1.0", seed=3)
    record = {"order_number": "PO-2024-0901", "status": "pending"}
    with pytest.raises(ConnectorError):
        client.create("orders", record)
    sandbox.configure(faults="")
    created = client.create("orders", record)
    assert [r["id"] for r in stored(sandbox, "orders") if r.get("order_number") == "PO-2024-0901"] == [created["id"]]


def test_identical_records_in_one_call_are_counted(client: RobostackClient, sandbox: SandboxProcess) -> None:
    rows = [{"fieldName": "same"}, {"fieldName": "same"}, {"fieldName": "other"}]
    sandbox.configure(faults="lost=1.0", seed=1)
    with pytest.raises(UncertainOutcome):
        client.create_many("samples", rows)
    sandbox.configure(faults="")
    again = client.create_many("samples", rows)
    assert [r["fieldName"] for r in again] == ["same", "same", "other"]
    assert len({r["id"] for r in again}) == 3
    assert sorted(r["fieldName"] for r in stored(sandbox, "samples") if r["fieldName"] in ("same", "other")) == [
        "other",
        "same",
        "same",
    ]


def test_chunks_written_before_a_failure_are_not_written_again(
    client: RobostackClient, sandbox: SandboxProcess
) -> None:
    rows = [{"order_number": f"PO-CHUNK-{n:03d}", "status": "pending"} for n in range(10)]
    calls = {"n": 0}
    put = client._put

    def flaky_put(resource: str, body: Any, count: int) -> list[dict[str, Any]]:
        calls["n"] += 1
        if calls["n"] == 3:  # the third chunk's answer is lost after it was written
            sandbox.configure(faults="lost=1.0", seed=1)
        try:
            return put(resource, body, count)
        finally:
            sandbox.configure(faults="")

    client._put = flaky_put  # type: ignore[method-assign]
    with pytest.raises(UncertainOutcome, match="chunk 3 of 4 failed after 6 records were created"):
        client.create_many("orders", rows, chunk_size=3)
    again = client.create_many("orders", rows, chunk_size=3)
    assert [r["order_number"] for r in again] == [r["order_number"] for r in rows]
    numbers = [r["order_number"] for r in stored(sandbox, "orders") if r["order_number"].startswith("PO-CHUNK-")]
    assert sorted(numbers) == sorted(r["order_number"] for r in rows)


@pytest.mark.parametrize("faults", ["lost=0.4", "5xx=0.4", "reset=0.4", "5xx=0.15,reset=0.1,lost=0.15"])
def test_fault_matrix_every_record_exactly_once(client: RobostackClient, sandbox: SandboxProcess, faults: str) -> None:
    """Each create repeated until it succeeds (the keyword in Wait Until Keyword Succeeds): 0 lost, 0 duplicated."""
    sandbox.configure(faults=faults, seed=11)
    repeats = 0
    for number in range(40):
        record = {"order_number": f"PO-FAULT-{number:03d}", "status": "pending", "n": number}
        created, attempts = until_it_succeeds(lambda record=record: client.create("orders", record))
        assert created["order_number"] == record["order_number"] and isinstance(created["id"], int)
        repeats += attempts - 1
    batch = [{"order_number": f"PO-FAULT-B{number:03d}", "status": "pending"} for number in range(25)]
    created_batch, attempts = until_it_succeeds(lambda: client.create_many("orders", batch, chunk_size=5))
    repeats += attempts - 1
    injected = sandbox.stats()["faults_injected"]
    sandbox.configure(faults="")
    numbers = [r["order_number"] for r in stored(sandbox, "orders") if r["order_number"].startswith("PO-FAULT-")]
    assert len(numbers) == 65 and len(set(numbers)) == 65, f"lost or duplicated: {len(numbers)} records"
    assert [r["order_number"] for r in created_batch] == [r["order_number"] for r in batch]
    assert repeats > 0 and sum(injected.values()) > 0, (repeats, injected)
