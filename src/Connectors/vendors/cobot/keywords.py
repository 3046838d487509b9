"""Robot Framework keyword components of ``Library    Connectors.Cobot``: thin layers over ``CobotClient``."""

from __future__ import annotations

from typing import Any

from robot.api.deco import keyword
from robot.api.types import Secret

from Connectors.core import arguments, log
from Connectors.library import DEFAULT_LIST_LIMIT, KeywordComponent, collect
from Connectors.vendors.cobot.client import CobotClient

Record = dict[str, Any]
Component = KeywordComponent[CobotClient]


class CobotUserKeywords(Component):
    @keyword(tags=["cobot", "read", "users"])
    def get_cobot_user(self) -> Record:
        """Return the authenticated user (scope ``read_user``).

        Keys: ``id``, ``email``, ``memberships`` and ``admin_of``.

        Example:
        | ${user} = | Get Cobot User |
        | Log | ${user}[email] |
        """
        return self.client.get_user()

    @keyword(tags=["cobot", "read", "spaces"])
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

    @keyword(tags=["cobot", "read", "identity"])
    def get_cobot_identity(
        self, id_token: str | Secret | None = None, space: str | None = None, client_id: str | None = None
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


class CobotMembershipKeywords(Component):
    @keyword(tags=["cobot", "read", "memberships"])
    def list_cobot_memberships(self, space: str | None = None, limit: int | None = DEFAULT_LIST_LIMIT) -> list[Record]:
        """Return the memberships of a space (admins only; scope ``read_memberships``).

        Cobot allows this call 6 times per minute; the client paces it so no call is refused.
        ``limit`` returns only the first items (0 = all).

        Example:
        | ${members} = | List Cobot Memberships | space=my-space |
        | Log | ${members}[0][name] |
        """
        count = arguments.limit(limit)
        return collect(self.client.list_memberships(space), count)

    @keyword(tags=["cobot", "read", "memberships"])
    def get_cobot_membership(self, membership_id: str, space: str | None = None) -> Record:
        """Return one membership: ``name``, ``email``, ``address``, ``plan``, ``customer_number`` …

        Example:
        | ${member} = | Get Cobot Membership | ${invoice}[membership_id] |
        | Log | ${member}[address][company] |
        """
        return self.client.get_membership(membership_id, space)


class CobotInvoiceKeywords(Component):
    @keyword(tags=["cobot", "read", "invoices"])
    def list_cobot_invoices(
        self,
        start: str | None = None,
        end: str | None = None,
        ids: list[str] | str | None = None,
        space: str | None = None,
        limit: int | None = DEFAULT_LIST_LIMIT,
    ) -> list[Record]:
        """Return a space's invoices dated from ``start`` to ``end`` (Cobot's ``from`` / ``to``), or by ``ids``.

        Dates are ISO 8601 (``2025-03-01``). ``ids`` is a list or a comma-separated string. Each invoice
        has ``id``, ``invoice_number``, ``invoice_date``, ``membership_id``, ``address``, ``items``,
        ``net_amount``, ``tax_amount``, ``total_amount``, ``currency`` and ``paid_status``.

        Example:
        | ${invoices} = | List Cobot Invoices | start=2025-03-01 | end=2025-03-31 |
        | ${some} = | List Cobot Invoices | ids=${first_id},${second_id} |
        """
        count = arguments.limit(limit)
        return collect(self.client.list_invoices(start, end, ids=ids, space=space), count)


class CobotBookingKeywords(Component):
    @keyword(tags=["cobot", "read", "bookings"])
    def list_cobot_bookings(
        self,
        start: str,
        end: str,
        resource_id: str | None = None,
        space: str | None = None,
        limit: int | None = DEFAULT_LIST_LIMIT,
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
            limit=arguments.limit(limit),
        )
        return found

    @keyword(tags=["cobot", "write", "bookings"])
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

    @keyword(tags=["cobot", "write", "bookings"])
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

    @keyword(tags=["cobot", "write", "bookings"])
    def delete_cobot_booking(self, booking_id: str, space: str | None = None) -> None:
        """Cancel (delete) a booking.

        Example:
        | Delete Cobot Booking | ${booking}[id] |
        """
        self.client.delete_booking(booking_id, space)
        log.info(f"Deleted Cobot booking {booking_id}.")

    @keyword(tags=["cobot", "read", "resources"])
    def list_cobot_resources(self, ids: list[str] | str | None = None, space: str | None = None) -> list[Record]:
        """Return the bookable resources (rooms, desks) of a space, or those with the given ``ids``.

        Example:
        | ${resources} = | List Cobot Resources |
        | ${room_id} = | Set Variable | ${resources}[0][id] |
        """
        return self.client.list_resources(ids, space)


class CobotCheckInKeywords(Component):
    @keyword(tags=["cobot", "read", "check-ins"])
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

    @keyword(tags=["cobot", "read", "time-passes"])
    def list_cobot_time_passes(self, membership_id: str | None = None, space: str | None = None) -> list[Record]:
        """Return the unused time passes of the space (admins) or of one membership.

        Example:
        | ${passes} = | List Cobot Time Passes | membership_id=${id} |
        """
        return self.client.list_time_passes(membership_id, space)


class CobotWebhookKeywords(Component):
    @keyword(tags=["cobot", "write", "webhooks"])
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

    @keyword(tags=["cobot", "read", "webhooks"])
    def list_cobot_webhook_subscriptions(self, space: str | None = None) -> list[Record]:
        """Return a space's webhook subscriptions.

        Example:
        | ${subs} = | List Cobot Webhook Subscriptions |
        """
        return self.client.list_webhook_subscriptions(space)

    @keyword(tags=["cobot", "write", "webhooks"])
    def delete_cobot_webhook_subscription(self, subscription_id: str, space: str | None = None) -> None:
        """Delete a webhook subscription.

        Example:
        | Delete Cobot Webhook Subscription | ${sub}[id] |
        """
        self.client.delete_webhook_subscription(subscription_id, space)
        log.info(f"Deleted Cobot webhook subscription {subscription_id}.")
