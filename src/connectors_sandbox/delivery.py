"""Webhook delivery: POST an event, retry on a schedule until a 2xx, report the outcome.

Retries wait on a timer, not in a worker thread, so a vendor whose documented schedule spans hours
(Cobot: up to 10 retries over up to 20 hours) holds no thread while it waits. Waits are in sandbox
time: ``time_scale`` (``/_sandbox/config``) makes them pass faster. A reset drops pending retries.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

DELIVERED, GONE, FAILED = "delivered", "gone", "failed"


@dataclass(frozen=True)
class RetrySchedule:
    """How a vendor delivers: waits (sandbox seconds) before each retry, the timeout of one attempt,
    and the answers that end delivery at once (Cobot: 410 Gone)."""

    delays: tuple[float, ...] = (0.2, 0.4, 0.8)
    timeout: float = 2.0
    final_statuses: frozenset[int] = frozenset()


@dataclass
class _Delivery:
    url: str
    body: bytes
    headers: dict[str, str]
    schedule: RetrySchedule
    on_outcome: Callable[[str], None] | None
    generation: int
    record: dict[str, Any] = field(default_factory=dict)


class Deliveries:
    def __init__(self, time_scale: Callable[[], float], on_done: Callable[[dict[str, Any]], None]) -> None:
        self._time_scale = time_scale
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sandbox-webhooks")
        self._due: list[tuple[float, int, _Delivery]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._generation = 0
        self._timer: threading.Thread | None = None

    def send(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        schedule: RetrySchedule,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        delivery = _Delivery(url, body, headers, schedule, on_outcome, self._generation)
        delivery.record = {"url": url, "attempts": 0, "status": None, "outcome": None}
        self._pool.submit(self._attempt, delivery)

    def reset(self) -> None:
        with self._wake:
            self._generation += 1
            self._due.clear()

    def _attempt(self, delivery: _Delivery) -> None:
        if delivery.generation != self._generation:
            return
        record = delivery.record
        record["attempts"] += 1
        status: int | None = None
        try:
            answer = requests.post(
                delivery.url,
                data=delivery.body,
                headers=delivery.headers,
                timeout=delivery.schedule.timeout,
                allow_redirects=False,
            )
            status = answer.status_code
            record["status"] = status
        except requests.RequestException as exc:
            record["status"] = type(exc).__name__
        if status is not None and 200 <= status < 300:
            self._finish(delivery, DELIVERED)
        elif status is not None and status in delivery.schedule.final_statuses:
            self._finish(delivery, GONE)
        elif record["attempts"] > len(delivery.schedule.delays):
            self._finish(delivery, FAILED)
        else:
            wait = delivery.schedule.delays[record["attempts"] - 1] / max(self._time_scale(), 1e-9)
            self._later(time.monotonic() + wait, delivery)

    def _finish(self, delivery: _Delivery, outcome: str) -> None:
        if delivery.generation != self._generation:
            return
        delivery.record["outcome"] = outcome
        if delivery.on_outcome is not None:
            delivery.on_outcome(outcome)
        self._on_done(delivery.record)

    def _later(self, due: float, delivery: _Delivery) -> None:
        with self._wake:
            if delivery.generation != self._generation:
                return
            heapq.heappush(self._due, (due, next(self._order), delivery))
            if self._timer is None:
                self._timer = threading.Thread(target=self._run_timer, name="sandbox-webhook-timer", daemon=True)
                self._timer.start()
            self._wake.notify()

    def _run_timer(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._wake.wait(None if not self._due else self._due[0][0] - time.monotonic())
                _due, _order, delivery = heapq.heappop(self._due)
            self._pool.submit(self._attempt, delivery)
