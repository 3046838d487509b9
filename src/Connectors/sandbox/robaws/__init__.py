"""The Robaws emulation, mounted at ``/robaws`` (see ``api``)."""

from Connectors.sandbox.robaws.api import RobawsSandbox, create

__all__ = ["RobawsSandbox", "create"]
