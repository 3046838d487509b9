"""Robocorp Control Room emulation: ``create(ctx)`` builds it for the sandbox app."""

from Connectors.sandbox.controlroom.emulator import ControlRoomSandbox, create

__all__ = ["ControlRoomSandbox", "create"]
