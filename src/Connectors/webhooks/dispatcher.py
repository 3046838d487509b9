"""Hands stored events off, exactly once, in the order received, in one background thread.

For each open event: commit the intent (``handing_off``), hand off, commit ``handed_off``. An event
found with an intent but no outcome — the process was killed in between, or the attempt failed in a
way that may have taken effect — is first looked for in the sink (``Sink.find``) and handed off again
only when it is not there. Errors that cannot heal by waiting (bad configuration, refused input) mark
the event ``failed`` with one line; ``connectors webhooks retry`` queues failed events again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from Connectors.core import log
from Connectors.core.errors import ConnectorError, RateLimited, ServerError, TransportError
from Connectors.webhooks.sinks import Sink
from Connectors.webhooks.store import HANDING_OFF, EventStore, StoredEvent

# Waiting may heal these: the vendor or the disk is back later. Anything else is a refusal.
TRANSIENT = (TransportError, ServerError, RateLimited, OSError)
MAX_BACKOFF = 60.0


class Transient(Exception):
    """The hand-off could not be done now; the event stays open and is tried again after a pause."""


def reason_of(error: BaseException) -> str:
    """One line for the log and the store: our own messages, never a vendor's raw body or a traceback."""
    if isinstance(error, ConnectorError):
        return str(error).splitlines()[0][:500]
    if isinstance(error, OSError):
        return f"{type(error).__name__}: {error.strerror or 'operating system error'}"
    return type(error).__name__


class Dispatcher:
    def __init__(self, store: EventStore, sink: Sink, *, idle_poll: float = 1.0) -> None:
        self.store = store
        self.sink = sink
        self.idle_poll = idle_poll
        self.failures_in_a_row = 0
        self.stats = {"handed_off": 0, "reconciled": 0, "failed": 0, "transient_errors": 0}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="webhook-hand-off", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception as error:  # Transient, or a surprise: the hand-off thread must outlive both
                if not isinstance(error, Transient):
                    log.info(f"Webhook hand-off paused: {reason_of(error)}")
                # Back off on failures in a row only: an outage gets up to a minute between attempts,
                # a flaky link that still lets most hand-offs through gets half a second.
                self.failures_in_a_row += 1
                self._stop.wait(min(MAX_BACKOFF, 0.5 * 2 ** (self.failures_in_a_row - 1)))
                continue
            if not busy:
                self._wake.wait(self.idle_poll)
                self._wake.clear()
        self._flush(force=True)

    def _flush(self, force: bool = False) -> None:
        try:
            self.sink.flush(force)
        except OSError as error:
            log.info(f"Could not rebuild the work item file: {reason_of(error)}")

    # -- one round ---------------------------------------------------------------------------------
    def run_once(self, limit: int = 100) -> bool:
        """Hand off up to ``limit`` open events; True when there was anything to do."""
        events = self.store.open_events(limit)
        if not events:
            self._flush()
            return False
        uncertain = [event for event in events if event.state == HANDING_OFF]
        found = self._attempt(lambda: self.sink.find(uncertain), uncertain) if uncertain else {}
        if uncertain:
            log.info(
                f"{len(uncertain)} event(s) with an unfinished hand-off: {len(found)} found handed off already,"
                f" {len(uncertain) - len(found)} to hand off again"
            )
        for event in events:
            if self._stop.is_set():
                break
            if event.seq in found:
                self.store.mark_handed_off(event.seq, found[event.seq])
                self.stats["reconciled"] += 1
                self.failures_in_a_row = 0
                continue
            self._hand_off(event)
        self._flush()
        return True

    def _attempt(self, call: Callable[[], dict[int, str]], events: list[StoredEvent]) -> dict[int, str]:
        try:
            return call()
        except TRANSIENT as error:
            self._transient(events[0], error)
            raise Transient from error

    def _hand_off(self, event: StoredEvent) -> None:
        self.store.mark_intent(event.seq)
        try:
            target = self.sink.hand_off(event)
        except TRANSIENT as error:
            self._transient(event, error)
            raise Transient from error
        except ConnectorError as error:
            # A refusal, but the attempt may still have taken effect (a run started, its read-back
            # refused): look before calling it failed.
            found = self._attempt(lambda: self.sink.find([event]), [event])
            if event.seq in found:
                self.store.mark_handed_off(event.seq, found[event.seq])
                self.stats["handed_off"] += 1
                return
            self.store.mark_failed(event.seq, reason_of(error))
            self.stats["failed"] += 1
            log.info(f"Could not hand off {event.source} event #{event.seq}: {reason_of(error)}")
            return
        self.store.mark_handed_off(event.seq, target)
        self.stats["handed_off"] += 1
        self.failures_in_a_row = 0

    def _transient(self, event: StoredEvent, error: BaseException) -> None:
        self.stats["transient_errors"] += 1
        reason = reason_of(error)
        self.store.note_error(event.seq, reason)
        log.info(f"Hand-off of {event.source} event #{event.seq} postponed: {reason}")
