"""Robocorp Control Room: ``ControlRoomClient`` and its Robot Framework keywords."""

from Connectors.vendors.controlroom.client import ControlRoomClient, ProcessRunFailed, ProcessRunTimeout

__all__ = ["ControlRoomClient", "ProcessRunFailed", "ProcessRunTimeout"]
