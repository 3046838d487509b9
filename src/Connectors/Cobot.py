"""``Library    Connectors.Cobot``: Robot Framework keywords for the Cobot coworking API."""

from __future__ import annotations

from typing import Any

from Connectors.library import ConnectorLibrary, connecting_doc, takes_settings
from Connectors.vendors.cobot.client import CobotClient
from Connectors.vendors.cobot.keywords import (
    CobotBookingKeywords,
    CobotCheckInKeywords,
    CobotInvoiceKeywords,
    CobotMembershipKeywords,
    CobotSpaceDataKeywords,
    CobotUserKeywords,
    CobotWebhookKeywords,
)
from Connectors.vendors.cobot.profile import COBOT


class Cobot(ConnectorLibrary[CobotClient]):
    client_class = CobotClient

    @takes_settings(COBOT)
    def __init__(self, *args: Any, **settings: Any) -> None:
        """Settings given here are the defaults of `Connect To Cobot` (see `Connecting`).

        | Library | Connectors.Cobot | space=my-space |
        """
        super().__init__(
            [
                CobotUserKeywords(self),
                CobotMembershipKeywords(self),
                CobotInvoiceKeywords(self),
                CobotBookingKeywords(self),
                CobotCheckInKeywords(self),
                CobotSpaceDataKeywords(self),
                CobotWebhookKeywords(self),
            ],
            args,
            settings,
        )


Cobot.__doc__ = f"""Keywords for [{COBOT.site}|Cobot], {COBOT.summary}.

{connecting_doc(COBOT)}
= Spaces =

User-level keywords (`Get Cobot User`, `List Cobot Spaces`, `Get Cobot Identity`) talk to ``COBOT_URL``; the
others work on one space, at its own address, which follows from ``COBOT_URL``: ``https://<subdomain>.cobot.me``
for Cobot itself, ``<COBOT_URL>/spaces/<subdomain>`` for any other host (the offline sandbox, a proxy) unless
``COBOT_SPACE_URL_TEMPLATE`` says otherwise. The token is never sent anywhere else. Pass ``space=<subdomain>``
or set a default with ``COBOT_SPACE`` or `Connect To Cobot`.

= API 1 and API 2 =

Cobot has two APIs. API 2 (``COBOT_API_URL``, default ``https://api.cobot.me``) is JSON:API, described by
Cobot's OpenAPI spec; its answers come back flattened: ``id``, ``type``, the attributes as the spec names them
(``invoiceDate``, ``totalAmount`` …) and the ids of related resources (``membershipId``, ``resourcesIds`` …).
Keywords speak API 2 wherever it has the operation, and read collections 200 items a request. API 1 is used
where API 2 has nothing: webhook subscriptions, time passes, the list of spaces and today's check-ins of a
space (each such keyword says so). ``api=1`` (``COBOT_API=1``) keeps API 1's answers for the keywords that had
them. A space is given by its subdomain and resolved to its API 2 id once per connection. `Call Cobot API`
reaches any of API 2's operations by its ``operationId``. One login covers both APIs (their scopes are
requested together), and a ``403`` names the scope the operation needs.

= Throttling =

Cobot allows {COBOT.rate_doc}. Requests are spaced evenly below both limits, so a robot gets no ``429``; if one
comes anyway, its ``Retry-After`` is honoured and the request is repeated.

= Errors =

Failures are one line naming the cause and what to do. Validation errors (HTTP 422) list every field, e.g.
``Cobot POST …/bookings: HTTP 422: from: can't be blank; to: can't be blank``. Tokens never appear in the log,
at any log level.
"""
