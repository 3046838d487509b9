"""Exactly once against a server that is not our sandbox: a Robaws-like server with the documented
idempotency rules drops connections before writing, answers 503, and loses answers after writing, at
heavy rates. Each create is repeated until it succeeds, the way ``Wait Until Keyword Succeeds`` does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from independent_server import Faults, IndependentServer

from Connectors import RobawsClient
from Connectors.core import repeats
from Connectors.core.errors import ConnectorError, UncertainOutcome
from Connectors.core.retry import RetryPolicy

T = TypeVar("T")
COUNT = 200


def until_it_succeeds(call: Callable[[], T], attempts: int = 30) -> tuple[T, int]:
    """What ``Wait Until Keyword Succeeds    30x    0s`` does: (result, failed attempts)."""
    failures = 0
    while True:
        try:
            return call(), failures
        except ConnectorError as error:
            failures += 1
            if failures >= attempts:
                raise AssertionError(f"still failing after {attempts} attempts: {error}") from error


def client(server: IndependentServer) -> RobawsClient:
    # One retry inside the client, so that failures reach the caller's loop often.
    return RobawsClient(
        server.url,
        username="api",
        password="independent-pass",
        rate_limit="none",
        daily_quota="none",
        retry=RetryPolicy(max_attempts=2, connect_attempts=2, backoff_base=0.001),
    )


def create_all(robaws: RobawsClient) -> int:
    failures = 0
    for index in range(COUNT):
        invoice = {"supplierId": 1001, "reference": f"independent-{index}", "totalAmount": index}
        _, failed = until_it_succeeds(lambda invoice=invoice: robaws.create("purchase-invoices", invoice))
        failures += failed
    return failures


def references(server: IndependentServer) -> Counter[str]:
    return Counter(str(item["reference"]) for item in server.store.objects.get("purchase-invoices", []))


@pytest.fixture(autouse=True)
def empty_journal() -> None:
    repeats.journal.clear()


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_repeated_creates_make_each_object_exactly_once(seed: int) -> None:
    with IndependentServer(Faults(before=0.15, server_error=0.15, lost=0.15, seed=seed)) as server:
        failures = create_all(client(server))
        counts = references(server)
    assert len(counts) == COUNT, "lost creates"
    assert max(counts.values()) == 1, f"duplicated: {[ref for ref, n in counts.items() if n > 1]}"
    # The run met every kind of fault, and the caller's repeats were exercised (replayed, not re-created).
    assert min(server.faults.injected.values()) > 0 and failures > 0 and server.store.replays > 0


def test_without_the_journal_the_same_run_duplicates() -> None:
    """The property above is the journal's doing: with it switched off, user repeats create duplicates."""
    with IndependentServer(Faults(before=0.15, server_error=0.15, lost=0.15, seed=11)) as server:
        original = repeats.journal.pending
        repeats.journal.pending = lambda write: None  # type: ignore[method-assign]
        try:
            create_all(client(server))
        finally:
            repeats.journal.pending = original  # type: ignore[method-assign]
        counts = references(server)
    assert max(counts.values()) > 1


def test_an_uncertain_create_names_its_key_and_a_repeat_reuses_it() -> None:
    with IndependentServer(Faults(lost=1.0)) as server:
        robaws = client(server)
        with pytest.raises(UncertainOutcome) as caught:
            robaws.create("clients", {"name": "ACME"})
        key = caught.value.idempotency_key
        assert key and key in str(caught.value) and "\n" not in str(caught.value)
        server.faults.lost = 0.0
        created = robaws.create("clients", {"name": "ACME"})
    assert created["id"] == 1 and len(server.store.objects["clients"]) == 1 and server.store.replays >= 1


def test_two_deliberate_identical_creates_make_two() -> None:
    with IndependentServer() as server:
        robaws = client(server)
        first: Any = robaws.create("clients", {"name": "Twice"})
        second: Any = robaws.create("clients", {"name": "Twice"})
    assert (first["id"], second["id"]) == (1, 2)
