"""``Library    Connectors.Robostack``: records of Robostack applications from Robot Framework."""

from __future__ import annotations

from typing import Any

from Connectors.library import ConnectorLibrary, connecting_doc, takes_settings
from Connectors.vendors.robostack.client import RobostackClient
from Connectors.vendors.robostack.keywords import RecordKeywords
from Connectors.vendors.robostack.profile import ROBOSTACK
from Connectors.vendors.robostack.selection import MATCH_ALL_OPERATORS


class Robostack(ConnectorLibrary[RobostackClient]):
    client_class = RobostackClient

    @takes_settings(ROBOSTACK)
    def __init__(self, *args: Any, **settings: Any) -> None:
        """Settings given here are the defaults of `Connect To Robostack` (see `Connecting`).

        | Library | Connectors.Robostack | rate_limit=2/s | chunk_size=50 |
        """
        super().__init__([RecordKeywords(self)], args, settings)


_OPERATORS = ", ".join(f"``{op}``" for op in MATCH_ALL_OPERATORS)

Robostack.__doc__ = f"""Find, create, update, delete and aggregate records of a [{ROBOSTACK.site}|Robostack]
application.

A token (Token Key and Token Secret, from My Account) must be granted to the application (API Access > Add
Token Access).

{connecting_doc(ROBOSTACK)}
= Safety =

- Creating records (``PUT``) is never repeated blindly after a timeout or a dropped connection: the keyword
  fails saying the records may or may not exist. Calling the same keyword again with the same records in
  the same robot (for example inside ``Wait Until Keyword Succeeds``) first looks for the records the failed
  attempt may have created and creates only the missing ones, so a repeat makes no duplicate. A deliberate
  second create of identical records after a success still creates them. Give each record a field that
  identifies it (an order number): a record identical in every field to an existing one counts as created.
- `Update Robostack Records` and `Delete Robostack Records` refuse a selection that could match every record
  unless ``allow_all=True``. A selection passes only when every branch *pins a field to a value*:
  ``field: value`` (not ``None``), ``field: {{$eq: value}}`` or ``field: {{$in: [values]}}``; ``$and`` pins
  when one of its selections does, ``$or`` when all of its (non-empty list of) selections do. Empty
  selections, ``$and: []``, ``$or: []`` and selections made only of
  {_OPERATORS} (or any other operator) are refused; next to a pinned field those
  operators are fine.
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
