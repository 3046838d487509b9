"""Robot Framework keyword components of ``Library    Connectors.Cobot``: thin layers over ``CobotClient``."""

from __future__ import annotations

from typing import Any

from robot.api.deco import keyword
from robot.api.types import Secret

from Connectors.core import log
from Connectors.library import KeywordComponent
from Connectors.vendors.cobot.client import CobotClient

Record = dict[str, Any]


def _limited(items: list[Record], limit: int | None) -> list[Record]:
    # ``limit=0`` or a negative value means "all items" in Robot Framework data.
    if limit is None or int(limit) <= 0:
        return items
    return items[: int(limit)]


def _ids(value: list[str] | str | None) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part) for part in value]


class CobotConnectionKeywords(KeywordComponent):
    @keyword(tags=["cobot", "connection"])
    def connect_to_cobot(
        self,
        url: str | None = None,
        access_token: Secret | None = None,
        client_id: str | None = None,
        client_secret: Secret | None = None,
        space: str | None = None,
        space_url_template: str | None = None,
        token_store: str | None = None,
        vault_secret: str | None = None,
        rate_limit: str | None = None,
        burst: int | None = None,
        rate_scale: float | None = None,
        timeout: float | None = None,
    ) -> None:
        """Connect to Cobot with an access token or the OAuth2 token of ``connectors login cobot``.

        Without arguments the connection comes from the environment: ``COBOT_URL`` (default
        ``https://www.cobot.me``), ``COBOT_ACCESS_TOKEN``, or the Vault secret named by
        ``CONNECTORS_VAULT_SECRET``, or ``COBOT_CLIENT_ID`` with the token stored by
        ``connectors login cobot`` (``CONNECTORS_TOKEN_STORE``). Arguments win over variables.

        - ``access_token`` and ``client_secret`` are Robot Framework ``Secret`` values: never logged.
        - ``space`` is the default space subdomain of the space keywords (else ``COBOT_SPACE``).
        - ``space_url_template`` builds a space's URL (default ``https://{subdomain}.cobot.me``, or
          ``COBOT_SPACE_URL_TEMPLATE``).
        - ``rate_limit`` (e.g. ``60/min``) and ``burst`` override the per-user limit; ``rate_scale``
          multiplies all Cobot limits, memberships included (``COBOT_RATE_SCALE``; for a sandbox
          started with ``--rate-scale``).

        Example:
        | Connect To Cobot |
        | Connect To Cobot | access_token=${TOKEN} | space=my-space |
        | Connect To Cobot | client_id=my-app | token_store=tokens.json |
        """
        client = CobotClient(
            url,
            access_token=access_token,
            client_id=client_id,
            client_secret=client_secret,
            token_store=token_store,
            vault_secret=vault_secret,
            space=space,
            space_url_template=space_url_template,
            rate_limit=rate_limit,
            burst=burst,
            rate_scale=rate_scale,
            timeout=timeout,
        )
        self.library.client = client
        log.info(
            f"Connected to Cobot at {client.url} with {client.auth.describe()}; default space "
            f"{client.default_space or '(none)'}; client-side limit {client.throttle.status.rate}."
        )

    @keyword(tags=["cobot", "connection", "rate-limit"])
    def get_cobot_rate_limit_status(self) -> dict[str, Any]:
        """Return the client-side throttle state.

        Keys: ``rate``, ``burst``, ``waits``, ``waited_seconds``, ``requests`` and ``retries``.

        Example:
        | ${status} = | Get Cobot Rate Limit Status |
        | Should Be Equal As Integers | ${status}[retries] | 0 |
        """
        return dict(self.client.rate_limit_status())


class CobotUserKeywords(KeywordComponent):
    @keyword(tags=["cobot", "user"])
    def get_cobot_user(self) -> Record:
        """Return the authenticated user (scope ``read_user``).

        Keys: ``id``, ``email``, ``memberships`` and ``admin_of``.

        Example:
        | ${user} = | Get Cobot User |
        | Log | ${user}[email] |
        """
        return self.client.get_user()

    @keyword(tags=["cobot", "user", "spaces"])
    def list_cobot_spaces(self, details: bool = False) -> list[Record]:
        """Return the spaces the user is a member or an admin of (from ``memberships`` and ``admin_of``).

        Each space has ``subdomain``, ``name``, ``link``, ``admin`` (true when the user administers it)
        and ``membership_id`` (the user's own membership there, or None). With ``details=True`` each also
        gets ``details``: the space's public data (currency, time zone …).

        Example:
        | ${spaces} = | List Cobot Spaces |
        | FOR | ${space} | IN | @{spaces} |
        |     | Log | ${space}[subdomain] is administered: ${space}[admin] |
        | END |
        """
        return self.client.list_spaces(details=details)

    @keyword(tags=["cobot", "openid"])
    def get_cobot_identity(
        self, id_token: Secret | None = None, space: str | None = None, client_id: str | None = None
    ) -> Record:
        """Verify an OpenID Connect id token and return its claims (``sub``, ``email``, ``iss``, ``aud`` …).

        By default the id token is the one ``connectors login cobot --scope openid`` stored with the
        access token (connect with ``client_id``). It is verified against Cobot's discovery document and
        published keys (JWKS): signature, issuer, audience (the client id), expiry and issue time; tokens
        with ``alg: none`` or HMAC signatures are refused. With ``space``, the space's provider is used;
        its id tokens add the membership's ``name``, ``picture`` and ``phone_number``.

        Example:
        | Connect To Cobot | client_id=%{COBOT_CLIENT_ID} |
        | ${claims} = | Get Cobot Identity |
        | Log | Logged in as ${claims}[email] |
        """
        return self.client.get_identity(id_token, space=space, client_id=client_id)


class CobotMembershipKeywords(KeywordComponent):
    @keyword(tags=["cobot", "memberships"])
    def list_cobot_memberships(self, space: str | None = None, limit: int | None = None) -> list[Record]:
        """Return the memberships of a space (admins only; scope ``read_memberships``).

        Cobot allows this call 6 times per minute; the client paces it so no call is refused.
        ``limit`` returns only the first items (0 = all).

        Example:
        | ${members} = | List Cobot Memberships | space=my-space |
        | Log | ${members}[0][name] |
        """
        return _limited(self.client.list_memberships(space), limit)

    @keyword(tags=["cobot", "memberships"])
    def get_cobot_membership(self, membership_id: str, space: str | None = None) -> Record:
        """Return one membership: ``name``, ``email``, ``address``, ``plan``, ``customer_number`` …

        Example:
        | ${member} = | Get Cobot Membership | ${invoice}[membership_id] |
        | Log | ${member}[address][company] |
        """
        return self.client.get_membership(membership_id, space)


class CobotInvoiceKeywords(KeywordComponent):
    @keyword(tags=["cobot", "invoices"])
    def list_cobot_invoices(
        self,
        start: str | None = None,
        end: str | None = None,
        ids: list[str] | str | None = None,
        space: str | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        """Return a space's invoices dated from ``start`` to ``end`` (Cobot's ``from`` / ``to``), or by ``ids``.

        Dates are ISO 8601 (``2025-03-01``). ``ids`` is a list or a comma-separated string. Each invoice
        has ``id``, ``invoice_number``, ``invoice_date``, ``membership_id``, ``address``, ``items``,
        ``net_amount``, ``tax_amount``, ``total_amount``, ``currency`` and ``paid_status``.

        Example:
        | ${invoices} = | List Cobot Invoices | start=2025-03-01 | end=2025-03-31 |
        | ${some} = | List Cobot Invoices | ids=${first_id},${second_id} |
        """
        return _limited(self.client.list_invoices(start, end, ids=_ids(ids), space=space), limit)


class CobotBookingKeywords(KeywordComponent):
    @keyword(tags=["cobot", "bookings"])
    def list_cobot_bookings(
        self,
        start: str,
        end: str,
        resource_id: str | None = None,
        space: str | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        """Return the bookings overlapping ``start``..``end`` (ISO 8601 dates or date-times).

        Admins see all bookings of the space, members their own. ``resource_id`` narrows to one resource;
        ``limit`` asks Cobot for at most that many.

        Example:
        | ${bookings} = | List Cobot Bookings | 2025-03-03 | 2025-03-09 |
        | ${room} = | List Cobot Bookings | 2025-03-03 | 2025-03-03 | resource_id=${room_id} |
        """
        found = self.client.list_bookings(
            start,
            end,
            resource_id=resource_id,
            space=space,
            limit=int(limit) if limit and int(limit) > 0 else None,
        )
        return found

    @keyword(tags=["cobot", "bookings"])
    def create_cobot_booking(
        self,
        resource_id: str,
        start: str,
        end: str,
        title: str | None = None,
        comments: str | None = None,
        membership_id: str | None = None,
        space: str | None = None,
    ) -> Record:
        """Book a resource from ``start`` to ``end`` and return the booking (scope ``write_bookings``).

        Admins may book on behalf of a ``membership_id``. A clash with another booking fails with the
        vendor's validation message (HTTP 422).

        Example:
        | ${booking} = | Create Cobot Booking | ${room} | 2025-03-04T10:00 | 2025-03-04T11:00 | title=Sync |
        """
        return self.client.create_booking(
            resource_id, start, end, title=title, comments=comments, membership_id=membership_id, space=space
        )

    @keyword(tags=["cobot", "bookings"])
    def update_cobot_booking(
        self,
        booking_id: str,
        start: str | None = None,
        end: str | None = None,
        title: str | None = None,
        comments: str | None = None,
        space: str | None = None,
    ) -> Record:
        """Change a booking's time, title or comments and return the updated booking.

        Example:
        | ${booking} = | Update Cobot Booking | ${booking}[id] | title=Board meeting |
        """
        return self.client.update_booking(booking_id, start=start, end=end, title=title, comments=comments, space=space)

    @keyword(tags=["cobot", "bookings"])
    def delete_cobot_booking(self, booking_id: str, space: str | None = None) -> None:
        """Cancel (delete) a booking.

        Example:
        | Delete Cobot Booking | ${booking}[id] |
        """
        self.client.delete_booking(booking_id, space)
        log.info(f"Deleted Cobot booking {booking_id}.")

    @keyword(tags=["cobot", "resources"])
    def list_cobot_resources(self, ids: list[str] | str | None = None, space: str | None = None) -> list[Record]:
        """Return the bookable resources (rooms, desks) of a space, or those with the given ``ids``.

        Example:
        | ${resources} = | List Cobot Resources |
        | ${room_id} = | Set Variable | ${resources}[0][id] |
        """
        return self.client.list_resources(_ids(ids), space)


class CobotCheckInKeywords(KeywordComponent):
    @keyword(tags=["cobot", "check-ins"])
    def list_cobot_check_ins(
        self,
        membership_id: str | None = None,
        start: str | None = None,
        end: str | None = None,
        space: str | None = None,
    ) -> list[Record]:
        """Return today's check-ins of the space (admins), or one membership's check-ins of a period.

        The period is ``start`` to ``end`` (ISO 8601), for one ``membership_id`` only.

        Example:
        | ${today} = | List Cobot Check Ins |
        | ${month} = | List Cobot Check Ins | membership_id=${id} | start=2025-03-01 | end=2025-03-31 |
        """
        return self.client.list_check_ins(membership_id, start, end, space)

    @keyword(tags=["cobot", "time-passes"])
    def list_cobot_time_passes(self, membership_id: str | None = None, space: str | None = None) -> list[Record]:
        """Return the unused time passes of the space (admins) or of one membership.

        Example:
        | ${passes} = | List Cobot Time Passes | membership_id=${id} |
        """
        return self.client.list_time_passes(membership_id, space)


class CobotWebhookKeywords(KeywordComponent):
    @keyword(tags=["cobot", "webhooks"])
    def subscribe_to_cobot_webhook(self, event: str, callback_url: str, space: str | None = None) -> Record:
        """Subscribe ``callback_url`` to a space's ``event`` and return the subscription (``id``, ``url`` …).

        Events include ``created_booking``, ``updated_booking``, ``deleted_booking``, ``created_membership``,
        ``confirmed_membership``, ``canceled_membership``, ``created_invoice`` and ``created_checkin``.
        Cobot POSTs ``{"url": "<resource url>"}`` and expects a 2xx answer. Subscribing the same event and
        URL twice fails (HTTP 409); an unknown event or an invalid URL fails field by field (HTTP 422).

        Example:
        | ${sub} = | Subscribe To Cobot Webhook | created_invoice | https://robots.example.com/cobot |
        """
        return self.client.subscribe_webhook(event, callback_url, space)

    @keyword(tags=["cobot", "webhooks"])
    def list_cobot_webhook_subscriptions(self, space: str | None = None) -> list[Record]:
        """Return a space's webhook subscriptions.

        Example:
        | ${subs} = | List Cobot Webhook Subscriptions |
        """
        return self.client.list_webhook_subscriptions(space)

    @keyword(tags=["cobot", "webhooks"])
    def delete_cobot_webhook_subscription(self, subscription_id: str, space: str | None = None) -> None:
        """Delete a webhook subscription.

        Example:
        | Delete Cobot Webhook Subscription | ${sub}[id] |
        """
        self.client.delete_webhook_subscription(subscription_id, space)
        log.info(f"Deleted Cobot webhook subscription {subscription_id}.")
