"""Robocorp Control Room emulation: ``create(ctx)`` builds it for the sandbox app."""

from connectors_sandbox.controlroom.emulator import ControlRoomSandbox, create

__all__ = ["ControlRoomSandbox", "create"]
