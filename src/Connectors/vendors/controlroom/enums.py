"""Control Room's enumerations, as the spec spells them; Libdoc lists the values of each."""

from __future__ import annotations

from enum import Enum
from typing import Any

from Connectors.core.errors import ValidationError


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
