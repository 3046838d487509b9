"""``Library    Connectors.Robostack``: records of Robostack applications from Robot Framework."""

from __future__ import annotations

from typing import Any

from Connectors.library import ConnectorLibrary, connecting_doc, takes_settings
from Connectors.vendors.robostack.client import RobostackClient
from Connectors.vendors.robostack.keywords import ConnectionKeywords, RecordKeywords
from Connectors.vendors.robostack.profile import ROBOSTACK


class Robostack(ConnectorLibrary[RobostackClient]):
    client_class = RobostackClient

    @takes_settings(ROBOSTACK)
    def __init__(self, *args: Any, **settings: Any) -> None:
        """Settings given here are the defaults of `Connect To Robostack` (see `Connecting`).

        | Library | Connectors.Robostack | rate_limit=2/s | chunk_size=50 |
        """
        super().__init__([ConnectionKeywords(self), RecordKeywords(self)], args, settings)


Robostack.__doc__ = f"""Find, create, update, delete and aggregate records of a [{ROBOSTACK.site}|Robostack]
application.

A token (Token Key and Token Secret, from My Account) must be granted to the application (API Access > Add
Token Access).

{connecting_doc(ROBOSTACK)}
= Safety =

- Creating records (``PUT``) is never repeated after a timeout or a dropped connection: the keyword fails
  saying the records may or may not exist; check with `Find Robostack Records` first.
- `Update Robostack Records` and `Delete Robostack Records` refuse a selection that matches every record
  (empty, or only match-all operators) unless ``allow_all=True``.
- Requests are throttled at {ROBOSTACK.rate_doc}; set ``ROBOSTACK_RATE_LIMIT`` or ``rate_limit``. A ``429``
  is waited out as its ``Retry-After`` says.

= Example =

| *** Settings ***
| Library    Connectors.Robostack
|
| *** Tasks ***
| Invoice Pending Orders
|     ${{orders}} =    Find Robostack Records    orders    status=pending
|     FOR    ${{order}}    IN    @{{orders}}
|         ${{selection}} =    Create Dictionary    id=${{order}}[id]
|         Update Robostack Records    orders    ${{selection}}    status=invoiced
|     END
"""  # noqa: S608 - prose that names update and delete, not SQL
