"""Control Room's vocabulary: the spec's enumerations, the work-item payload limit, run outcomes as errors,
and pre-signed storage links as credentials - what both API generations and the keywords share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from Connectors.core.errors import ConnectorError, UncertainOutcome, ValidationError

# Control Room refuses a work-item payload over 100 KB ("Control Room already prevents any payload size
# > 100KB", a Robocorp maintainer in rpaframework#559): read as 100,000 bytes of its compact JSON in UTF-8,
# the stricter reading. The sandbox measures the same way and holds the same number (a test checks they agree).
PAYLOAD_LIMIT = 100_000


class ControlRoomApi(str, Enum):
    """Which API generation a connection speaks: ``current`` (``/api/v1``) or ``legacy`` (``/process-v1``)."""

    CURRENT = "current"
    LEGACY = "legacy"


class RunState(str, Enum):
    """Process run states: ``new``, ``in_progress``, ``completed``, ``unresolved``, ``stopping``."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    UNRESOLVED = "unresolved"
    STOPPING = "stopping"


class StepRunState(str, Enum):
    NEW = "new"
    AWAITING_WORKER = "awaiting_worker"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


class WorkItemState(str, Enum):
    """Work item states: ``new``, ``pending``, ``in_progress``, ``failed``, ``done``."""

    NEW = "new"
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    FAILED = "failed"
    DONE = "done"


class CallbackEvent(str, Enum):
    """Events a run's callback receives: ``started``, ``completed``, ``unresolved``."""

    STARTED = "started"
    COMPLETED = "completed"
    UNRESOLVED = "unresolved"


class WebhookEvent(str, Enum):
    """Events of a process webhook: ``process_run.started``, ``process_run.completed``, ``process_run.unresolved``."""

    STARTED = "process_run.started"
    COMPLETED = "process_run.completed"
    UNRESOLVED = "process_run.unresolved"


FINISHED = frozenset({RunState.COMPLETED.value, RunState.UNRESOLVED.value})


def value_of(member: str | Enum | None) -> str | None:
    return member.value if isinstance(member, Enum) else member


def checked(state: Any, kind: type[Enum], what: str) -> str | None:
    """Refuse an unknown state filter before sending: the API would refuse or return nothing."""
    text = value_of(state)
    if text is not None and not isinstance(text, str):
        raise ValidationError(f"The {what} state must be a text, got {type(text).__name__}.", vendor="Control Room")
    if text and text not in {member.value for member in kind}:
        known = ", ".join(member.value for member in kind)
        raise ValidationError(f"Unknown {what} state {text!r}.", vendor="Control Room", hint=f"Use one of {known}.")
    return text or None


def within_limit(payload: Any, argument: str = "payload") -> Any:
    """``payload`` when its JSON is at most ``PAYLOAD_LIMIT`` bytes; one line naming size, limit and way out."""
    size = len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > PAYLOAD_LIMIT:
        raise ValidationError(
            f"{argument} is {size:,} bytes of JSON; Control Room takes work-item payloads of at most "
            f"{PAYLOAD_LIMIT:,} bytes.",
            vendor="Control Room",
            hint="Put the large data in a file attached to the work item (Create Work Item with files=) "
            "and keep the payload small.",
        )
    return payload


@dataclass(frozen=True)
class Start:
    """How a run starts, as the spec's ``startProcessRun`` body has it: ``kind`` is its ``type``
    (``with_payloads``, ``with_work_item_ids``, ``with_inputs``); None sends no type - and, without a
    callback, no body at all, so Control Room uses the process's default work item."""

    kind: str | None
    fields: dict[str, Any]
    callback: dict[str, Any] | None = None

    def body(self) -> dict[str, Any] | None:
        if self.kind is None and not self.callback:
            return None  # no body: Control Room uses the process's default work item
        body: dict[str, Any] = {"type": self.kind, **self.fields} if self.kind else {}
        if self.callback:
            body["callback"] = self.callback
        return body


@dataclass(frozen=True)
class WorkItemQuery:
    """Which work items to list, checked by the facade; each API generation reads it its own way."""

    process_id: str | None
    run_id: str | None
    state: str | None
    include_data: bool
    limit: int | None
    page_size: int | None


class ProcessRunFailed(ConnectorError):
    """A process run ended unresolved (a step failed, work items failed, or it was stopped)."""

    default_hint = "Open the run in Control Room, fix the cause and use Retry Work Items, or trigger a new run."

    def __init__(self, message: str, run: dict[str, Any], **kwargs: Any) -> None:
        self.run = run
        super().__init__(message, **kwargs)


class ProcessRunTimeout(ConnectorError):
    """A process run did not finish before the waiting deadline."""

    default_hint = "Wait longer (raise timeout), or stop the run with Stop Process Run."

    def __init__(self, message: str, run: dict[str, Any], **kwargs: Any) -> None:
        self.run = run
        super().__init__(message, **kwargs)


class RunTriggerUncertain(UncertainOutcome):
    """A trigger was sent but no clear answer came back: a run may or may not have started."""

    def __init__(self, message: str, *, process_id: str, process_name: str, since: str, **kwargs: Any) -> None:
        self.process_id, self.process_name, self.since = process_id, process_name, since
        label = process_name or process_id
        hint = (
            f"Check before triggering again: list the runs of process {label!r} created since {since} "
            f"(keyword List Process Runs with process={label} since={since}; "
            f"Python client.list_runs({label!r}, since={since!r})): a run there was started by this trigger."
        )
        super().__init__(message, hint=hint, **kwargs)
