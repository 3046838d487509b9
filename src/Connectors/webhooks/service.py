"""Assembling and running the receiver (``connectors webhooks serve|status|retry``)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from Connectors.core import log
from Connectors.core.config import env, secret_value
from Connectors.core.errors import ConfigurationError
from Connectors.core.settings import lookup
from Connectors.vendors.cobot.profile import COBOT as COBOT_PROFILE
from Connectors.vendors.controlroom.profile import CONTROLROOM
from Connectors.vendors.robaws.profile import ROBAWS
from Connectors.webhooks.cobot import NAME as COBOT
from Connectors.webhooks.cobot import TOKEN_PATTERN, cobot_source
from Connectors.webhooks.cobot import from_environment as cobot_deliveries
from Connectors.webhooks.dispatcher import MAX_BACKOFF, TRANSIENT, Dispatcher, reason_of
from Connectors.webhooks.receiver import DEFAULT_MAX_BODY, Receiver
from Connectors.webhooks.sinks import ControlRoomRuns, Sink, WorkItemFolder
from Connectors.webhooks.sources import Source, controlroom_source, robaws_source
from Connectors.webhooks.store import EventStore


@dataclass
class ReceiverSettings:
    store: str
    work_items: str | None = None
    process: str | None = None
    robaws_secret: Any = None
    controlroom_secret: Any = None
    # Cobot: the secret path token of /webhooks/cobot/<token>, and tokens to answer 410 Gone.
    cobot_token: Any = None
    cobot_dropped: tuple[str, ...] = ()
    max_body: int = DEFAULT_MAX_BODY
    tolerance: float | None = None
    # Longest pause between hand-off attempts while the target keeps failing.
    max_backoff: float = MAX_BACKOFF


def _sources(settings: ReceiverSettings) -> dict[str, Source]:
    sources: list[Source] = []
    robaws = secret_value(settings.robaws_secret) or lookup(ROBAWS, "webhook_secret")[0]
    if robaws:
        tolerance = settings.tolerance
        if tolerance is None:
            text = env("ROBAWS_WEBHOOK_TOLERANCE", "300") or "300"
            try:
                tolerance = float(text)
            except ValueError:
                raise ConfigurationError(
                    "ROBAWS_WEBHOOK_TOLERANCE is not a number.", hint="Set it to seconds, e.g. 300."
                )
        sources.append(robaws_source(robaws, tolerance))
    controlroom = secret_value(settings.controlroom_secret) or lookup(CONTROLROOM, "webhook_secret")[0]
    if controlroom:
        sources.append(controlroom_source(controlroom))
    cobot = _cobot_source(settings)
    if cobot:
        sources.append(cobot)
    if not sources:
        raise ConfigurationError(
            "No webhook secret is configured.",
            hint="Set ROBAWS_WEBHOOK_SECRET, CONTROLROOM_WEBHOOK_SECRET and/or COBOT_WEBHOOK_TOKEN.",
        )
    return {source.name: source for source in sources}


def _cobot_source(settings: ReceiverSettings) -> Source | None:
    token = secret_value(settings.cobot_token) or secret_value(lookup(COBOT_PROFILE, "webhook_token")[0])
    if not token:
        return None
    listed = secret_value(lookup(COBOT_PROFILE, "webhook_dropped_tokens")[0]) or ""
    dropped = [*settings.cobot_dropped, *listed.split(",")]
    for value in (token, *(d.strip() for d in dropped if d.strip())):
        if not TOKEN_PATTERN.match(value):
            raise ConfigurationError(
                "A Cobot webhook token must be 16 to 200 letters, digits, '-' or '_'.",
                hint="Make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'.",
            )
    return cobot_source(token, [d.strip() for d in dropped if d.strip()])


def _sink(settings: ReceiverSettings) -> Sink:
    if settings.process:
        return ControlRoomRuns(settings.process)
    if settings.work_items:
        return WorkItemFolder(settings.work_items)
    raise ConfigurationError("Nowhere to hand events to.", hint="Pass --work-items DIR or --process NAME.")


def build_receiver(settings: ReceiverSettings, sink: Sink | None = None) -> Receiver:
    """The receiver, its store opened and its sink prepared; the hand-off thread is not started yet."""
    if settings.max_body < 1:
        raise ConfigurationError("The body size limit must be positive.", hint="Pass --max-body BYTES, e.g. 1048576.")
    sources = _sources(settings)
    sink = sink or _sink(settings)
    try:
        sink.prepare()
    except TRANSIENT as error:
        # An outage is no reason to refuse deliveries: they are stored and handed off once it is over.
        log.info(f"Could not check {sink.description} at start ({reason_of(error)}); receiving anyway")
    store = EventStore(settings.store)
    transforms: dict[str, Callable[[bytes], bytes]] = {}
    if COBOT in sources:
        transforms[COBOT] = cobot_deliveries(settings.max_body).event
    return Receiver(
        store,
        sources,
        Dispatcher(store, sink, max_backoff=settings.max_backoff),
        max_body=settings.max_body,
        transforms=transforms,
    )


def _lock(store: str) -> Any:
    """One receiver per store: two would hand the same events off twice."""
    from filelock import FileLock, Timeout

    lock = FileLock(f"{store}.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ConfigurationError(
            f"Another receiver is using the store {store}.", hint="Stop it, or pass a different --store."
        )
    return lock


def _quiet_logging() -> None:
    """Our own fixed lines on stderr; uvicorn's access log stays off (it would print request lines)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger = logging.getLogger("Connectors")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


def serve(settings: ReceiverSettings, host: str, port: int) -> None:
    try:
        import uvicorn
    except ImportError:
        raise ConfigurationError(
            "The webhook receiver needs uvicorn and starlette.",
            hint="pip install 'robotframework-connectors[sandbox]'",
        )
    from Connectors.webhooks.app import create_app

    _sources(settings)  # a missing secret is reported before anything is created
    Path(settings.store).parent.mkdir(parents=True, exist_ok=True)
    lock = _lock(settings.store)
    _quiet_logging()
    receiver = build_receiver(settings)
    receiver.dispatcher.start()
    paths = ", ".join(
        f"/webhooks/{name}" + ("/<COBOT_WEBHOOK_TOKEN>" if name == COBOT else "") for name in receiver.sources
    )
    print(
        f"Receiving webhooks on http://{host}:{port} ({paths}); handing off to {receiver.dispatcher.sink.description}",
        flush=True,
    )
    # uvicorn shuts down gracefully on SIGTERM and then raises the signal again: with this handler
    # that ends in the finally below (the hand-off thread stops after its round, the store closes)
    # instead of killing the process on the spot.
    previous = (
        signal.signal(signal.SIGTERM, _stopped) if threading.current_thread() is threading.main_thread() else None
    )
    try:
        uvicorn.run(
            create_app(receiver),
            host=host,
            port=port,
            access_log=False,
            log_level="warning",
            server_header=False,
            limit_concurrency=200,
            timeout_keep_alive=5,
        )
    except Stopped:
        pass
    finally:
        receiver.dispatcher.stop()
        receiver.store.close()
        lock.release()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Stopped(Exception):
    """SIGTERM arrived: stop serving and close down in order."""


def _stopped(signum: int, frame: Any) -> None:
    raise Stopped


# -- status and retry ------------------------------------------------------------------------------
LABELS = {"received": "received", "handing_off": "handing off", "handed_off": "handed off", "failed": "failed"}


def _open_existing(store: str) -> EventStore:
    if not Path(store).is_file():
        raise ConfigurationError(f"No event store at {store}.", hint="Pass the --store the receiver uses.")
    return EventStore(store)


def status(store: str, last: int = 10) -> dict[str, Any]:
    events = _open_existing(store)
    try:
        return {"store": store, "counts": events.counts(), "last": [event.summary() for event in events.last(last)]}
    finally:
        events.close()


def format_status(report: dict[str, Any]) -> str:
    counts = report["counts"]
    lines = [
        f"{report['store']}: {sum(counts.values())} event{'' if sum(counts.values()) == 1 else 's'}: "
        + ", ".join(f"{counts[state]} {label}" for state, label in LABELS.items())
    ]
    for event in report["last"]:
        when = datetime.fromtimestamp(event["received_at"], timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        detail = event["target"] or event["error"] or ""
        lines.append(
            f"#{event['seq']:<6} {when}Z  {event['source']:<11} {LABELS.get(event['state'], event['state']):<11}"
            f" {event['id']}  {detail}".rstrip()
        )
    return "\n".join(lines)


def retry(store: str, source: str | None = None) -> int:
    events = _open_existing(store)
    try:
        return events.requeue_failed(source)
    finally:
        events.close()
