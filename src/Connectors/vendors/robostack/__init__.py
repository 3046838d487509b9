"""Robostack: ``RobostackClient`` and the keyword components of ``Library    Connectors.Robostack``."""

from Connectors.vendors.robostack.client import RobostackClient

__all__ = ["RobostackClient"]
