"""The Cobot emulation, mounted at ``/cobot`` (see ``api``)."""

from Connectors.sandbox.cobot.api import CobotSandbox, create

__all__ = ["CobotSandbox", "create"]
