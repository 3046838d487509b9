"""``Library    Connectors.Robostack``: records of Robostack applications from Robot Framework."""

from __future__ import annotations

from typing import Any

from Connectors.core.config import env
from Connectors.core.errors import ConfigurationError
from Connectors.library import ConnectorLibrary
from Connectors.vendors.robostack.client import RobostackClient
from Connectors.vendors.robostack.keywords import ConnectionKeywords, RecordKeywords


class Robostack(ConnectorLibrary):
    """Find, create, update, delete and aggregate records of a [https://robostack.ai|Robostack] application.

    = Connecting =

    A token (Token Key and Token Secret, from My Account) must be granted to the application
    (API Access > Add Token Access). `Connect To Robostack` takes the application UUID, key and secret
    as arguments (key and secret as ``Secret`` values), from ``ROBOSTACK_APP_UUID``,
    ``ROBOSTACK_API_KEY`` and ``ROBOSTACK_API_SECRET``, or from a Vault secret. When those variables
    are set, the first keyword connects by itself. ``ROBOSTACK_URL`` points elsewhere than
    ``https://api.robostack.ai`` (e.g. the offline sandbox, ``http://127.0.0.1:8700/robostack``).

    = Safety =

    - Creating records (``PUT``) is never repeated after a timeout or a dropped connection: the keyword
      fails saying the records may or may not exist; check with `Find Robostack Records` first.
    - `Update Robostack Records` and `Delete Robostack Records` refuse an empty selection (which would
      hit every record) unless ``allow_all=True``.
    - Requests are throttled at 5/s (burst 10) by default; set ``ROBOSTACK_RATE_LIMIT`` or
      ``rate_limit``. A ``429`` is waited out as its ``Retry-After`` says.

    = Example =

    | *** Settings ***
    | Library    Connectors.Robostack
    |
    | *** Tasks ***
    | Invoice Pending Orders
    |     ${orders} =    Find Robostack Records    orders    status=pending
    |     FOR    ${order}    IN    @{orders}
    |         ${selection} =    Create Dictionary    id=${order}[id]
    |         Update Robostack Records    orders    ${selection}    status=invoiced
    |     END
    """

    connect_keyword = "Connect To Robostack"

    def __init__(
        self,
        url: str | None = None,
        rate_limit: str | None = None,
        burst: int | None = None,
        chunk_size: int | None = None,
        timeout: float | None = None,
    ) -> None:
        """Settings given here are defaults for `Connect To Robostack` (credentials are not taken here).

        | Library | Connectors.Robostack | rate_limit=2/s | chunk_size=50 |
        """
        self.settings: dict[str, Any] = {
            "url": url,
            "rate_limit": rate_limit,
            "burst": burst,
            "chunk_size": chunk_size,
            "timeout": timeout,
        }
        super().__init__([ConnectionKeywords(self), RecordKeywords(self)])

    def auto_connect(self) -> None:
        if not (env("ROBOSTACK_API_KEY") or env("CONNECTORS_VAULT_SECRET")):
            raise ConfigurationError(
                "Not connected to Robostack.",
                hint="Call 'Connect To Robostack' first, or set ROBOSTACK_APP_UUID, ROBOSTACK_API_KEY and "
                "ROBOSTACK_API_SECRET.",
            )
        self.client = RobostackClient(
            url=self.settings["url"],
            rate_limit=self.settings["rate_limit"],
            burst=self.settings["burst"],
            chunk_size=self.settings["chunk_size"],
            timeout=self.settings["timeout"],
        )
