"""Robot Framework libraries and Python clients for business APIs.

``from Connectors import RobawsClient`` (likewise ``CobotClient``, ``ControlRoomClient``,
``RobostackClient``) gives the plain Python clients; ``Library    Connectors.Robaws`` the keywords.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The errors Python tasks catch most; every class is in Connectors.core (``from Connectors.core import NotFound``).
from Connectors.core.errors import ConnectorError, UncertainOutcome

if TYPE_CHECKING:
    # What type checkers see; at run time __getattr__ below imports each client on first use.
    from Connectors.vendors.cobot.client import CobotClient as CobotClient
    from Connectors.vendors.controlroom.client import ControlRoomClient as ControlRoomClient
    from Connectors.vendors.robaws.client import RobawsClient as RobawsClient
    from Connectors.vendors.robostack.client import RobostackClient as RobostackClient

from Connectors.vendors import VENDORS

_CLIENTS = {vendor.client_name: vendor.client_module for vendor in VENDORS}

__all__ = ["ConnectorError", "UncertainOutcome", "__version__", *_CLIENTS]


def __getattr__(name: str) -> Any:
    # Clients load on first use, so importing one vendor's library does not import the others.
    if name in _CLIENTS:
        import importlib

        return getattr(importlib.import_module(_CLIENTS[name]), name)
    raise AttributeError(f"module 'Connectors' has no attribute {name!r}")
