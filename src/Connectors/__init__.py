"""Robot Framework libraries and Python clients for business APIs.

``from Connectors import RobawsClient`` (likewise ``CobotClient``, ``ControlRoomClient``,
``RobostackClient``) gives the plain Python clients; ``Library    Connectors.Robaws`` the keywords.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_CLIENTS = {
    "RobawsClient": "Connectors.vendors.robaws.client",
    "CobotClient": "Connectors.vendors.cobot.client",
    "ControlRoomClient": "Connectors.vendors.controlroom.client",
    "RobostackClient": "Connectors.vendors.robostack.client",
}

__all__ = ["__version__", *_CLIENTS]


def __getattr__(name: str) -> Any:
    # Clients load on first use, so importing one vendor's library does not import the others.
    if name in _CLIENTS:
        import importlib

        return getattr(importlib.import_module(_CLIENTS[name]), name)
    raise AttributeError(f"module 'Connectors' has no attribute {name!r}")
