"""``Library    Connectors.Robaws``: Robot Framework keywords for the Robaws ERP API."""

from __future__ import annotations

from Connectors.library import ConnectorLibrary
from Connectors.vendors.robaws.keywords import (
    RobawsBusinessKeywords,
    RobawsConnectionKeywords,
    RobawsResourceKeywords,
    RobawsWebhookKeywords,
)


class Robaws(ConnectorLibrary):
    """Keywords for [https://robaws.com|Robaws], the ERP for construction and field-service companies.

    = Connecting =

    `Connect To Robaws` takes HTTP Basic credentials (an API user) or an OAuth2 client whose tokens
    `connectors login robaws` stored. Without it, the first keyword connects from the environment:

    | =Variable= | =Meaning= |
    | ``ROBAWS_URL`` | the Robaws site, default ``https://app.robaws.com`` |
    | ``ROBAWS_USERNAME``, ``ROBAWS_PASSWORD`` | HTTP Basic credentials of an API user |
    | ``ROBAWS_CLIENT_ID``, ``ROBAWS_CLIENT_SECRET`` | OAuth2 client; tokens from ``CONNECTORS_TOKEN_STORE`` |
    | ``CONNECTORS_VAULT_SECRET`` | Vault secret with ``username`` / ``password``, or the OAuth client |
    | ``ROBAWS_RATE_LIMIT``, ``ROBAWS_RATE_BURST`` | client-side limit, default ``15/s`` with burst 20 |
    | ``ROBAWS_DAILY_QUOTA`` | client-side daily request budget, default 10000 (``none`` to switch off) |
    | ``CONNECTORS_THROTTLE_STORE`` | share the limit between processes (``sqlite:///path``, ``redis://…``) |

    = Throttling, retries and idempotency =

    Requests are paced below Robaws' limit (15 requests/second, burst 20) so that a robot gets no
    ``429 Too Many Requests`` — Robaws may block integrations that do. The rate-limit headers are read
    after every response. Connection errors, 429 and 502/503/504 are retried with back-off.

    Every create and update sends an ``Idempotency-Key``: the same key on each retry, so a retried
    POST never creates a duplicate. Pass ``idempotency_key`` (see `Make Robaws Idempotency Key`) to
    make a re-run of the whole robot safe as well.

    = Collections =

    The generic keywords (`List Robaws Resources`, `Get Robaws Resource`, `Create Robaws Resource`,
    `Update Robaws Resource`, `Patch Robaws Resource`, `Replace Robaws Resource`, `Delete Robaws Resource`)
    work on any collection of ``/api/v2``: ``clients``, ``suppliers``, ``articles``, ``employees``,
    ``projects``, ``offers``, ``work-orders``, ``sales-invoices``, ``purchase-invoices`` and more.

    = Errors =

    Failures are one line naming the cause and what to do, for example
    ``Robaws GET /clients: HTTP 401: Invalid username or password ... Check ROBAWS_USERNAME ...``.
    Credentials never appear in the log, at any log level.
    """

    connect_keyword = "Connect To Robaws"

    def __init__(self) -> None:
        super().__init__(
            [
                RobawsConnectionKeywords(self),
                RobawsResourceKeywords(self),
                RobawsBusinessKeywords(self),
                RobawsWebhookKeywords(self),
            ]
        )

    def auto_connect(self) -> None:
        """Connect from the ``ROBAWS_*`` variables when a keyword runs before `Connect To Robaws`."""
        from Connectors.vendors.robaws.client import RobawsClient

        self.client = RobawsClient()
