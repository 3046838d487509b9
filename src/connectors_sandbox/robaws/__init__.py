"""The Robaws emulation, mounted at ``/robaws`` (see ``api``)."""

from connectors_sandbox.robaws.api import RobawsSandbox, create

__all__ = ["RobawsSandbox", "create"]
