"""Robocorp Control Room: ``ControlRoomClient`` and its Robot Framework keywords."""

from Connectors.vendors.controlroom.client import ControlRoomClient
from Connectors.vendors.controlroom.model import (
    ControlRoomApi,
    ProcessRunFailed,
    ProcessRunTimeout,
    RunState,
    RunTriggerUncertain,
    WorkItemState,
)

__all__ = [
    "ControlRoomApi",
    "ControlRoomClient",
    "ProcessRunFailed",
    "ProcessRunTimeout",
    "RunState",
    "RunTriggerUncertain",
    "WorkItemState",
]
