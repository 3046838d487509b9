"""``Library    Connectors.Robaws``: Robot Framework keywords for the Robaws ERP API."""

from __future__ import annotations

from typing import Any

from Connectors.library import ConnectorLibrary, connecting_doc, takes_settings
from Connectors.vendors.robaws.client import RobawsClient
from Connectors.vendors.robaws.keywords import (
    RobawsBusinessKeywords,
    RobawsModeKeywords,
    RobawsNestedKeywords,
    RobawsResourceKeywords,
    RobawsSyncKeywords,
    RobawsWebhookKeywords,
)
from Connectors.vendors.robaws.profile import ROBAWS


class Robaws(ConnectorLibrary[RobawsClient]):
    client_class = RobawsClient

    @takes_settings(ROBAWS)
    def __init__(self, *args: Any, **settings: Any) -> None:
        """Settings given here are the defaults of `Connect To Robaws` (see `Connecting`).

        | Library | Connectors.Robaws | url=https://app.robaws.be | rate_limit=10/s |
        """
        sync = RobawsSyncKeywords(self)
        super().__init__(
            [
                RobawsModeKeywords(self),
                RobawsResourceKeywords(self),
                RobawsBusinessKeywords(self),
                RobawsNestedKeywords(self),
                sync,
                RobawsWebhookKeywords(self),
            ],
            args,
            settings,
        )
        # Beside the credential guard: the sync checkpoints advance when the test or task passes.
        self.ROBOT_LIBRARY_LISTENER.append(sync.listener)


Robaws.__doc__ = f"""Keywords for [{ROBAWS.site}|Robaws], {ROBAWS.summary}.

{connecting_doc(ROBAWS)}
= Throttling, retries and idempotency =

Requests are paced below Robaws' limit ({ROBAWS.rate_doc}) so that a robot gets no
``429 Too Many Requests`` - Robaws may block integrations that do. The rate-limit headers are read
after every response; when the day's budget is spent, a keyword fails at once with the reset time.
Connection errors, 429 and 502/503/504 are retried with back-off.

Every create and update sends an ``Idempotency-Key``: the same key on each retry, so a retried POST never
creates a duplicate. When a write fails in a way that may have applied it, the error says so and names the
key; calling the same keyword again with the same data (for example inside ``Wait Until Keyword Succeeds``)
reuses that key, so Robaws replays the first result instead of creating a second one. Pass
``idempotency_key`` (see `Make Robaws Idempotency Key`) to make a re-run of the whole robot safe as well.

= Collections =

The generic keywords (`List Robaws Resources`, `Get Robaws Resource`, `Create Robaws Resource`,
`Update Robaws Resource`, `Patch Robaws Resource`, `Replace Robaws Resource`, `Delete Robaws Resource`)
work on any collection of ``/api/v2``: ``clients``, ``suppliers``, ``articles``, ``employees``,
``projects``, ``offers``, ``work-orders``, ``sales-invoices``, ``purchase-invoices`` and more, and nested
collections such as ``clients/42/contacts`` or ``purchase-supply-orders/7/line-items``. Ids are data: each
is encoded as one path segment; a collection's segments are checked and encoded one by one, and
``..``, ``.``, empty segments, ``?``, ``#`` and control characters are refused.

= Extra fields =

Robaws keeps a tenant's own fields in ``extraFields``, each with a typed value:
``{{"Contact via": {{"stringValue": "Website"}}}}`` (also ``integerValue``, ``decimalValue``, ``booleanValue``,
``dateValue``). The create and update keywords take them in ``extra_fields``, each as a plain value - a
text, a whole number, a decimal, ``${{True}}``/``${{False}}`` or a date - and send the right value key; a list
or a dictionary fails in one line, and so does giving both ``extra_fields`` and a raw ``extraFields`` field.
Answers keep Robaws' own shape; `Get Robaws Extra Fields` turns an entity's into plain data. The list
keywords take the same plain dictionary as a filter (``extraFields[Name]=value``).

| &{{extra}} = | Create Dictionary | Contact via=Website | Visits=${{3}} | Rating=${{4.5}} | VIP=${{True}} |
| ${{client}} = | Create Robaws Client | name=ACME NV | extra_fields=${{extra}} |
| ${{read}} = | Get Robaws Resource | clients | ${{client}}[id] | include=extraFields |
| ${{plain}} = | Get Robaws Extra Fields | ${{read}} |

= Errors =

Failures are one line naming the cause and what to do, for example
``Robaws GET /clients: HTTP 401: Invalid username or password. Check ROBAWS_USERNAME ...``.
Credentials never appear in the log, at any log level.
"""
