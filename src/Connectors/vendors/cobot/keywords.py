"""Robot Framework keyword components of ``Library    Connectors.Cobot``: thin layers over ``CobotClient``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robot.api.deco import keyword
from robot.api.types import Secret

from Connectors.core import arguments, log
from Connectors.core.errors import ValidationError
from Connectors.library import DEFAULT_LIST_LIMIT, KeywordComponent, collect
from Connectors.vendors.cobot.client import CobotClient

Record = dict[str, Any]
Component = KeywordComponent[CobotClient]


class CobotUserKeywords(Component):
    @keyword(tags=["cobot", "read", "users"])
    def get_cobot_user(self) -> Record:
        """Return the authenticated user (scope ``read_user``; API 2 ``get-user``).

        API 2: ``id``, ``type``, ``email`` and the ids of the spaces the user administers or belongs to
        (``adminOfIds``, ``memberOfIds``) and of the user's memberships (``membershipsIds``).
        With ``api=1``: ``id``, ``email``, ``memberships`` and ``admin_of``, as API 1 gives them.

        Example:
        | ${user} = | Get Cobot User |
        | Log | ${user}[email] |
        """
        return self.client.get_user()

    @keyword(tags=["cobot", "read", "spaces"])
    def get_cobot_space(self, space: str | None = None) -> Record:
        """Return a space's details (scope ``read_spaces``; API 2 ``get-space``).

        ``space`` is the subdomain (default: the connection's space); it is resolved to the space's API 2 id
        once per connection. Keys as the spec names them: ``id``, ``name``, ``subdomain``, ``email``,
        ``timeZone``, ``locale``, ``countryCode``, ``defaultTaxes`` … and ``ownerId``.

        Example:
        | ${space} = | Get Cobot Space | my-space |
        | Log | ${space}[name] is in ${space}[timeZone] |
        """
        return self.client.get_space(space)

    @keyword(tags=["cobot", "read", "spaces"])
    def list_cobot_spaces(self, details: bool = False) -> list[Record]:
        """Return the spaces the user is a member or an admin of (from ``memberships`` and ``admin_of``).

        Each space has ``subdomain``, ``name``, ``link``, ``admin`` (true when the user administers it)
        and ``membership_id`` (the user's own membership there, or None). With ``details=True`` each also
        gets ``details``: the space's public data (currency, time zone …).

        Under ``api=2`` too this keyword speaks API 1 (``GET /api/user``): API 2 lists no subdomains or links.

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
        its id tokens add the membership's ``name``, ``picture`` and ``phone_number``. This is OpenID Connect,
        the same under ``api=1`` and ``api=2``.

        Example:
        | Connect To Cobot | client_id=%{COBOT_CLIENT_ID} |
        | ${claims} = | Get Cobot Identity |
        | Log | Logged in as ${claims}[email] |
        """
        return self.client.get_identity(id_token, space=space, client_id=client_id)


class CobotMembershipKeywords(Component):
    @keyword(tags=["cobot", "read", "memberships"])
    def list_cobot_memberships(
        self,
        space: str | None = None,
        limit: int | None = DEFAULT_LIST_LIMIT,
        start: str | None = None,
        end: str | None = None,
    ) -> list[Record]:
        """Return the memberships of a space (admins; scope ``read_memberships``; API 2 ``get-space-memberships``).

        API 2 lists the memberships active from ``start`` to ``end`` (ISO dates, default today), 200 a
        request; each has ``id``, ``name``, ``email``, ``phone``, ``company``, ``confirmedAt``, ``canceledAt``
        and ``spaceId`` (``teamId`` when in a team). With ``api=1`` all of them, as API 1 gives them (Cobot
        allows that call 6 times per minute; the client paces it). ``limit`` returns only the first items
        (0 = all).

        Example:
        | ${members} = | List Cobot Memberships | space=my-space |
        | Log | ${members}[0][name] |
        """
        count = arguments.limit(limit)
        return collect(self.client.list_memberships(space, start, end, limit=count), count)

    @keyword(tags=["cobot", "read", "memberships"])
    def get_cobot_membership(self, membership_id: str, space: str | None = None) -> Record:
        """Return one membership (API 2 ``get-membership``): ``name``, ``email``, ``phone``, ``company`` …

        With ``api=1`` API 1's membership: ``name``, ``email``, ``address``, ``plan``, ``customer_number`` …
        ``space`` is used by API 1 only (API 2 finds a membership by its id).

        Example:
        | ${member} = | Get Cobot Membership | ${invoice}[membershipId] |
        | Log | ${member}[company] |
        """
        return self.client.get_membership(membership_id, space)

    @keyword(tags=["cobot", "read", "memberships"])
    def list_cobot_membership_plans(
        self,
        start: str | None = None,
        end: str | None = None,
        space: str | None = None,
        limit: int | None = DEFAULT_LIST_LIMIT,
    ) -> list[Record]:
        """Return the plans of the memberships active from ``start`` to ``end`` (API 2 ``get-space-membership-plans``).

        Dates default to today. Each plan has ``name``, ``pricePerCycle`` (``net``, ``gross``, ``currency``,
        ``taxes``), ``cycleDuration``, ``startsAt``, ``extras`` and ``membershipId``.

        Example:
        | ${plans} = | List Cobot Membership Plans |
        | Log | ${plans}[0][name] costs ${plans}[0][pricePerCycle][gross] |
        """
        count = arguments.limit(limit)
        return collect(self.client.list_membership_plans(space, start, end, limit=count), count)


class CobotInvoiceKeywords(Component):
    @keyword(tags=["cobot", "read", "invoices"])
    def list_cobot_invoices(
        self,
        start: str | None = None,
        end: str | None = None,
        ids: list[str] | str | None = None,
        space: str | None = None,
        limit: int | None = DEFAULT_LIST_LIMIT,
        paid_status: str | None = None,
    ) -> list[Record]:
        """Return a space's invoices dated from ``start`` to ``end``, or by ``ids`` (API 2 ``get-space-invoices``).

        Dates are ISO 8601 (``2025-03-01``). ``ids`` is a list or a comma-separated string (one
        ``get-invoice`` each). API 2 reads 200 invoices a request; each has ``id``, ``number``,
        ``invoiceDate``, ``dueDate``, ``paidStatus``, ``recipientAddress``, ``items``, ``totalAmount``
        (``net``, ``gross``, ``currency``, ``taxes``), ``payableAmount`` and ``membershipId``;
        ``paid_status`` (``paid``, ``unpaid`` …) narrows them. With ``api=1`` API 1's invoices:
        ``invoice_number``, ``invoice_date``, ``membership_id``, ``address``, ``net_amount`` …

        Example:
        | ${invoices} = | List Cobot Invoices | start=2025-03-01 | end=2025-03-31 |
        | ${some} = | List Cobot Invoices | ids=${first_id},${second_id} |
        """
        count = arguments.limit(limit)
        found = self.client.list_invoices(start, end, ids=ids, space=space, paid_status=paid_status, limit=count)
        return collect(found, count)

    @keyword(tags=["cobot", "read", "invoices"])
    def get_cobot_invoice(self, invoice_id: str) -> Record:
        """Return one invoice (API 2 ``get-invoice``; keys as in `List Cobot Invoices`).

        Example:
        | ${invoice} = | Get Cobot Invoice | ${invoice_id} |
        | Log | ${invoice}[number]: ${invoice}[totalAmount][gross] |
        """
        return self.client.get_invoice(invoice_id)

    @keyword("Download Cobot Invoice PDF", tags=["cobot", "read", "invoices"])
    def download_cobot_invoice_pdf(self, invoice_id: str, path: str) -> str:
        """Save an invoice as PDF to ``path`` and return the path (API 2 ``get-invoice-pdf``).

        The folder must exist; an existing file is replaced only once the whole PDF has arrived.

        Example:
        | ${file} = | Download Cobot Invoice PDF | ${invoice}[id] | ${OUTPUT_DIR}/invoice.pdf |
        """
        target = Path(arguments.text(path, "path", max_length=4000))
        if not target.parent.is_dir():
            raise ValidationError(
                f"The folder of {target} does not exist.", hint="Create it first, or pick another path."
            )
        content = self.client.download_invoice_pdf(invoice_id)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(content)
        partial.replace(target)
        log.info(f"Saved Cobot invoice {invoice_id} as {target} ({len(content)} bytes).")
        return str(target)


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

        API 2 (``get-space-bookings``): each booking has ``id``, ``from``, ``to``, ``title``, ``comments``,
        ``price``, ``units``, ``resourceId``, ``membershipId`` and ``spaceId``. ``resource_id`` narrows to one
        resource (API 2 filters by period only, so the client picks them); ``limit`` returns at most that
        many. With ``api=1`` API 1's bookings (admins see all bookings of the space, members their own).

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

    @keyword(tags=["cobot", "read", "bookings"])
    def get_cobot_booking(self, booking_id: str, space: str | None = None) -> Record:
        """Return one booking (API 2 ``get-booking``; ``space`` is used by ``api=1`` only).

        Example:
        | ${booking} = | Get Cobot Booking | ${booking_id} |
        | Log | ${booking}[title] from ${booking}[from] |
        """
        return self.client.get_booking(booking_id, space)

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

        API 2 ``create-admin-booking``: admins may book on behalf of a ``membership_id``. A clash with another
        booking fails with the vendor's validation message (HTTP 422). Not repeated after a lost answer
        (Cobot has no idempotency keys): list the bookings first.

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
        """Change a booking's time, title or comments and return the updated booking (API 2 ``update-space-booking``).

        Example:
        | ${booking} = | Update Cobot Booking | ${booking}[id] | title=Board meeting |
        """
        return self.client.update_booking(booking_id, start=start, end=end, title=title, comments=comments, space=space)

    @keyword(tags=["cobot", "write", "bookings"])
    def delete_cobot_booking(self, booking_id: str, space: str | None = None) -> None:
        """Cancel (delete) a booking (API 2 ``delete-space-booking``).

        Example:
        | Delete Cobot Booking | ${booking}[id] |
        """
        self.client.delete_booking(booking_id, space)
        log.info(f"Deleted Cobot booking {booking_id}.")

    @keyword(tags=["cobot", "read", "resources"])
    def list_cobot_resources(self, ids: list[str] | str | None = None, space: str | None = None) -> list[Record]:
        """Return the bookable resources (rooms, desks) of a space, or those with the given ``ids``.

        API 2 (``get-resources``): ``id``, ``name``, ``resourceType``, ``capacity``, ``pricing``,
        ``bookingTimes`` … With ``api=1`` API 1's resources (``price_per_hour`` …).

        Example:
        | ${resources} = | List Cobot Resources |
        | ${room_id} = | Set Variable | ${resources}[0][id] |
        """
        return self.client.list_resources(ids, space)

    @keyword(tags=["cobot", "read", "resources"])
    def get_cobot_resource_availability(self, resource_id: str, start: str, end: str) -> Record:
        """Return when a resource is free from ``start`` to ``end`` (API 2 ``get-resource-availbility``).

        ``availableTimes`` lists the free periods (``from``, ``to``, in UTC).

        Example:
        | ${free} = | Get Cobot Resource Availability | ${room_id} | 2025-03-04T08:00:00Z | 2025-03-04T18:00:00Z |
        | Log | ${free}[availableTimes] |
        """
        return self.client.get_resource_availability(resource_id, start, end)


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

        The period is ``start`` to ``end`` (ISO 8601), for one ``membership_id`` only: under ``api=2`` that is
        API 2 ``get-membership-check-ins`` (``validFrom``, ``validUntil``, ``membershipId``). Today's check-ins
        of the whole space come from API 1 under ``api=2`` too: API 2 has no such operation (see
        `List Current Cobot Check Ins`).

        Example:
        | ${today} = | List Cobot Check Ins |
        | ${month} = | List Cobot Check Ins | membership_id=${id} | start=2025-03-01 | end=2025-03-31 |
        """
        return self.client.list_check_ins(membership_id, start, end, space)

    @keyword(tags=["cobot", "read", "time-passes"])
    def list_cobot_time_passes(self, membership_id: str | None = None, space: str | None = None) -> list[Record]:
        """Return the unused time passes of the space (admins) or of one membership.

        Under ``api=2`` too this keyword speaks API 1: API 2 has no time passes.

        Example:
        | ${passes} = | List Cobot Time Passes | membership_id=${id} |
        """
        return self.client.list_time_passes(membership_id, space)

    @keyword(tags=["cobot", "write", "check-ins"])
    def check_in_cobot_member(self, check_in_token: str | Secret, space: str | None = None) -> Record:
        """Check in the member a check-in token belongs to (scope ``write_check_ins``; API 2 ``create-check-in``).

        The token is the one registered for the membership (an RFID card or a device's MAC address). Returns
        the check-in: ``id``, ``validFrom``, ``validUntil``, ``membershipId``, ``spaceId``. Not repeated after
        a lost answer: list the current check-ins first.

        Example:
        | ${check_in} = | Check In Cobot Member | ${badge} |
        | Check Out Cobot Member | ${check_in}[id] |
        """
        return self.client.check_in(arguments.credential(check_in_token, "check_in_token") or "", space)

    @keyword(tags=["cobot", "write", "check-ins"])
    def check_out_cobot_member(self, check_in_id: str) -> Record:
        """End a check-in now, by the check-in's id (API 2 ``create-check-out``: ``PUT /check_ins/{id}/check_out``).

        Returns the check-in with its new ``validUntil``.

        Example:
        | ${check_in} = | Check Out Cobot Member | ${check_in}[id] |
        """
        return self.client.check_out(check_in_id)

    @keyword(tags=["cobot", "read", "check-ins"])
    def list_current_cobot_check_ins(
        self, check_in_token: str | Secret, space: str | None = None, limit: int | None = DEFAULT_LIST_LIMIT
    ) -> list[Record]:
        """Return the running check-ins of the member a check-in token belongs to.

        API 2 ``list-space-check-ins-current``; each has ``id``, ``validFrom``, ``validUntil`` and ``membershipId``.

        Example:
        | ${running} = | List Current Cobot Check Ins | ${badge} |
        | IF | not ${running} | Check In Cobot Member | ${badge} |
        """
        count = arguments.limit(limit)
        token = arguments.credential(check_in_token, "check_in_token") or ""
        return collect(self.client.list_current_check_ins(token, space, limit=count), count)


class CobotSpaceDataKeywords(Component):
    @keyword(tags=["cobot", "read", "events"])
    def list_cobot_events(
        self,
        start: str | None = None,
        end: str | None = None,
        published_state: str = "published",
        space: str | None = None,
        limit: int | None = DEFAULT_LIST_LIMIT,
    ) -> list[Record]:
        """Return the events of a space from ``start`` to ``end`` (default today; API 2 ``list-events``).

        ``published_state`` is ``published`` or ``draft``. Each event has ``id``, ``title``, ``from``, ``to``,
        ``audience``, ``location``, ``capacity``, ``tags``, ``price`` and ``resourcesIds``.

        Example:
        | ${events} = | List Cobot Events | 2025-03-01 | 2025-03-31 |
        """
        count = arguments.limit(limit)
        found = self.client.list_events(start, end, published_state=published_state, space=space, limit=count)
        return collect(found, count)

    @keyword(tags=["cobot", "read", "contacts"])
    def list_cobot_contacts(self, space: str | None = None, limit: int | None = DEFAULT_LIST_LIMIT) -> list[Record]:
        """Return the contacts of a space (scope ``read_contacts``; API 2 ``get-space-contacts``).

        Each has ``id``, ``email``, ``phone``, ``address`` and ``membershipId`` (None for a contact without one).

        Example:
        | ${contacts} = | List Cobot Contacts |
        """
        count = arguments.limit(limit)
        return collect(self.client.list_contacts(space, limit=count), count)

    @keyword(tags=["cobot", "read", "teams"])
    def list_cobot_teams(
        self,
        start: str | None = None,
        end: str | None = None,
        space: str | None = None,
        limit: int | None = DEFAULT_LIST_LIMIT,
    ) -> list[Record]:
        """Return the teams of a space active from ``start`` to ``end`` (default today; API 2 ``get-space-teams``).

        Each has ``id``, ``name``, ``customerNumber``, ``taxId``, ``billingAddress`` and ``billingEmails``.

        Example:
        | ${teams} = | List Cobot Teams |
        """
        count = arguments.limit(limit)
        return collect(self.client.list_teams(start, end, space=space, limit=count), count)

    @keyword("Call Cobot API", tags=["cobot", "write", "api"])
    def call_cobot_api(self, operation_id: str, body: Any = None, **parameters: Any) -> Any:
        """Call any operation of Cobot's API 2 by its ``operationId`` and return the decoded JSON:API answer.

        Path and query parameters go by the spec's names (``id``, ``spaceId``, ``filter[from]`` …); ``body``
        is the JSON:API document (a dictionary or JSON text). An unknown operation, or a missing or unknown
        parameter, fails before anything is sent, naming what the operation takes. A collection answers its
        first page: pass ``page[number]`` and ``page[size]`` for others; ``fields[<type>]=a,b`` keeps only those
        attributes (JSON:API sparse fieldsets, e.g. ``fields[users]=email``). The answer is the document itself
        (``data``, ``included``, ``meta``, ``links``), not flattened. A 403 names the scope the operation
        needs. docs/cobot.md lists the 134 operations.

        Example:
        | ${d} = | Call Cobot API | get-space-teams | spaceId=${id} | filter[from]=2025-03-01 | filter[to]=2025-04-01 |
        | ${doc} = | Call Cobot API | lock-invoice | id=${invoice}[id] |
        """
        return self.client.call_api(operation_id, body, **parameters)


class CobotWebhookKeywords(Component):
    @keyword(tags=["cobot", "write", "webhooks"])
    def subscribe_to_cobot_webhook(self, event: str, callback_url: str, space: str | None = None) -> Record:
        """Subscribe ``callback_url`` to a space's ``event`` and return the subscription (``id``, ``url`` …).

        Under ``api=2`` too this keyword speaks API 1: API 2 has no webhook subscriptions.

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
        """Return a space's webhook subscriptions (API 1, also under ``api=2``: API 2 has none).

        Example:
        | ${subs} = | List Cobot Webhook Subscriptions |
        """
        return self.client.list_webhook_subscriptions(space)

    @keyword(tags=["cobot", "write", "webhooks"])
    def delete_cobot_webhook_subscription(self, subscription_id: str, space: str | None = None) -> None:
        """Delete a webhook subscription (API 1, also under ``api=2``: API 2 has none).

        Example:
        | Delete Cobot Webhook Subscription | ${sub}[id] |
        """
        self.client.delete_webhook_subscription(subscription_id, space)
        log.info(f"Deleted Cobot webhook subscription {subscription_id}.")
