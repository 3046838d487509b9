"""The Cobot emulation, mounted at ``/cobot`` (see ``api``)."""

from connectors_sandbox.cobot.api import CobotSandbox, create

__all__ = ["CobotSandbox", "create"]
