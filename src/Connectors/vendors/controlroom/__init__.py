"""Robocorp Control Room: ``ControlRoomClient`` and its Robot Framework keywords."""

from Connectors.vendors.controlroom.client import ControlRoomClient
from Connectors.vendors.controlroom.enums import ControlRoomApi, RunState, WorkItemState
from Connectors.vendors.controlroom.errors import ProcessRunFailed, ProcessRunTimeout, RunTriggerUncertain

__all__ = [
    "ControlRoomApi",
    "ControlRoomClient",
    "ProcessRunFailed",
    "ProcessRunTimeout",
    "RunState",
    "RunTriggerUncertain",
    "WorkItemState",
]
