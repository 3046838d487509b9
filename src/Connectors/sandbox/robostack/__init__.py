"""The Robostack emulation, mounted at ``/robostack`` (see ``api``)."""

from Connectors.sandbox.robostack.api import RobostackSandbox, create

__all__ = ["RobostackSandbox", "create"]
