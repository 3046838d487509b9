"""The Robostack emulation, mounted at ``/robostack`` (see ``api``)."""

from connectors_sandbox.robostack.api import RobostackSandbox, create

__all__ = ["RobostackSandbox", "create"]
