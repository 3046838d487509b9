"""``Library    Connectors.Cobot``: Robot Framework keywords for the Cobot coworking API."""

from __future__ import annotations

from Connectors.library import ConnectorLibrary
from Connectors.vendors.cobot.keywords import (
    CobotBookingKeywords,
    CobotCheckInKeywords,
    CobotConnectionKeywords,
    CobotInvoiceKeywords,
    CobotMembershipKeywords,
    CobotUserKeywords,
    CobotWebhookKeywords,
)


class Cobot(ConnectorLibrary):
    """Keywords for [https://www.cobot.me|Cobot], the management software of coworking spaces.

    = Connecting =

    `Connect To Cobot` takes an access token, or an OAuth2 client whose token `connectors login cobot`
    stored (authorization code with PKCE in the browser). Without it, the first keyword connects from
    the environment:

    | =Variable= | =Meaning= |
    | ``COBOT_URL`` | Cobot, default ``https://www.cobot.me`` |
    | ``COBOT_ACCESS_TOKEN`` | an OAuth2 access token (Cobot's tokens do not expire) |
    | ``COBOT_CLIENT_ID``, ``COBOT_CLIENT_SECRET`` | OAuth2 client; token from ``CONNECTORS_TOKEN_STORE`` |
    | ``CONNECTORS_VAULT_SECRET`` | Vault secret with ``access_token``, or ``client_id`` / ``client_secret`` |
    | ``COBOT_SPACE`` | default space subdomain of the space keywords |
    | ``COBOT_SPACE_URL_TEMPLATE`` | a space's URL, default ``https://{subdomain}.cobot.me`` |
    | ``COBOT_RATE_LIMIT``, ``COBOT_RATE_BURST`` | per-user limit, default ``60/min`` evenly spaced |
    | ``COBOT_RATE_SCALE`` | multiplies all Cobot limits (memberships included), for sandboxes |
    | ``CONNECTORS_THROTTLE_STORE`` | share the limit between processes (``sqlite:///path``, ``redis://…``) |

    = Spaces =

    User-level keywords (`Get Cobot User`, `List Cobot Spaces`, `Get Cobot Identity`) talk to
    ``COBOT_URL``; the others work on one space, at its own address. Pass ``space=<subdomain>`` or set a
    default with ``COBOT_SPACE`` or `Connect To Cobot`.

    = Throttling =

    Cobot allows 60 requests per minute per user and 6 per minute for the list of memberships.
    Requests are spaced evenly below both limits, so a robot gets no ``429``; if one comes anyway, its
    ``Retry-After`` is honoured and the request is repeated.

    = Errors =

    Failures are one line naming the cause and what to do. Validation errors (HTTP 422) list every
    field, e.g. ``Cobot POST …/bookings: HTTP 422: from: can't be blank; to: can't be blank``.
    Tokens never appear in the log, at any log level.
    """

    connect_keyword = "Connect To Cobot"

    def __init__(self) -> None:
        super().__init__(
            [
                CobotConnectionKeywords(self),
                CobotUserKeywords(self),
                CobotMembershipKeywords(self),
                CobotInvoiceKeywords(self),
                CobotBookingKeywords(self),
                CobotCheckInKeywords(self),
                CobotWebhookKeywords(self),
            ]
        )

    def auto_connect(self) -> None:
        """Connect from the ``COBOT_*`` variables when a keyword runs before `Connect To Cobot`."""
        from Connectors.vendors.cobot.client import CobotClient

        self.client = CobotClient()
