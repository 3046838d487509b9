"""``CobotClient``: Cobot's v1 REST API (user level and per space) as typed Python methods.

User-level calls go to ``COBOT_URL`` (``https://www.cobot.me``); a space's data lives under its own
address, derived from that same setting: ``https://{subdomain}.cobot.me`` for Cobot itself, and
``<COBOT_URL>/spaces/{subdomain}`` for any other host (the sandbox, a proxy) unless
``COBOT_SPACE_URL_TEMPLATE`` says otherwise. Credentials go to those addresses only. Everything goes
through the core ``Transport`` configured from the Cobot profile (``profile.py``): one throttle for the
user (60/min) with the per-endpoint bucket for ``GET /api/memberships`` (6/min), retries honouring
``Retry-After``, and typed errors; 422 answers are reported field by field.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from Connectors.core import arguments, log
from Connectors.core.auth import OAuth2Auth
from Connectors.core.config import require
from Connectors.core.errors import AuthenticationError, ConfigurationError, ValidationError
from Connectors.core.oidc import DISCOVERY_PATH, OpenIDProvider, verify_id_token
from Connectors.core.paths import build
from Connectors.vendors.base import BaseClient, named
from Connectors.vendors.cobot.api2 import Api2
from Connectors.vendors.cobot.profile import COBOT

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from Connectors.vendors.typed import CobotSettings


SUBDOMAIN_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
SPARSE = re.compile(r"^fields\[[A-Za-z][A-Za-z0-9_]{0,99}\]$")
Record = dict[str, Any]


def space_url_template(url: str, template: str | None = None) -> str:
    """How a space's URL follows from ``COBOT_URL`` (see the module docstring)."""
    if template:
        if "{subdomain}" not in template:
            raise ConfigurationError(
                f"Invalid space URL template {template!r}.",
                hint="It must contain {subdomain}, e.g. https://{subdomain}.cobot.me.",
            )
        return template.rstrip("/")
    parts = urlsplit(url)
    if parts.hostname and parts.hostname.startswith("www.") and parts.path in ("", "/"):
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{{subdomain}}.{parts.hostname[4:]}{port}"
    return url.rstrip("/") + "/spaces/{subdomain}"


def build_space_url(template: str, subdomain: str | None) -> str:
    """A space's base URL from the template and its subdomain."""
    name = (arguments.optional_text(subdomain, "space", max_length=200) or "").lower()
    if not name:
        raise ConfigurationError(
            "No Cobot space was given.", hint="Pass space=<subdomain> or set COBOT_SPACE (see List Cobot Spaces)."
        )
    if not SUBDOMAIN_RE.match(name):
        raise ConfigurationError(
            f"{subdomain!r} is not a Cobot space subdomain.",
            hint="Use the subdomain, e.g. my-space for https://my-space.cobot.me.",
        )
    return template.format(subdomain=name)


def moment(value: Any, argument: str = "start") -> str | None:
    """A ``from`` / ``to`` value as Cobot takes it: ISO 8601 for dates and date-times, text as given."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is not None and not isinstance(value, str):
        raise ValidationError(
            f"{argument} must be a date or an ISO 8601 text, got {type(value).__name__}.",
            hint="Write it like 2025-03-01 or 2025-03-01T10:00.",
        )
    return arguments.optional_text(value, argument, max_length=100)


class CobotClient(BaseClient):
    """Cobot's v1 API for Python tasks (``from Connectors import CobotClient``).

    With no arguments every setting comes from the environment or the Vault, in the documented order:
    ``COBOT_URL``, ``COBOT_ACCESS_TOKEN`` (or ``COBOT_CLIENT_ID`` with the token store), ``COBOT_SPACE``
    (the default space) and the limits.
    """

    profile = COBOT

    def __init__(self, url: str | None = None, /, **settings: Unpack[CobotSettings]) -> None:
        super().__init__(**named(settings, url=url))
        self.default_space = self.settings.text("space")
        self.client_id = self.settings.text("client_id")
        self.api_version = _api_version(self.settings.text("api"), self.settings.source("api"))
        self.api2 = Api2(self)

    @property
    def space_url_template(self) -> str:
        return space_url_template(self.url, self.settings.text("space_url_template"))

    def trusted_origins(self) -> Sequence[str]:
        # Space addresses derive from COBOT_URL (or the template the user set): nowhere else gets the token.
        template = space_url_template(self.url, self.settings.text("space_url_template"))
        parts = urlsplit(template.replace("{subdomain}", "*"))
        api = urlsplit(self.settings.text("api_url") or "https://api.cobot.me")
        return (f"{parts.scheme}://{parts.netloc}", f"{api.scheme}://{api.netloc}")

    def __repr__(self) -> str:
        return f"CobotClient({self.url!r}, {self.auth.describe()}, space={self.default_space!r})"

    # -- addressing -------------------------------------------------------------------------
    def space_url(self, space: str | None = None) -> str:
        return build_space_url(self.space_url_template, space or self.default_space)

    def _space_path(self, space: str | None, *parts: str | tuple[Any, str]) -> str:
        """An absolute URL under a space's ``/api``: literal parts, and ``(value, argument)`` data parts."""
        return self.space_url(space) + build("api", *parts)

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        return self.transport.request_json("GET", path, params=clean or None)

    def _items(self, path: str, params: dict[str, Any] | None = None) -> list[Record]:
        body = self._get(path, params)
        return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []

    def _record(self, path: str, params: dict[str, Any] | None = None) -> Record:
        body = self._get(path, params)
        return dict(body) if isinstance(body, dict) else {}

    def _one(self, response: requests.Response) -> Record:
        body = self.transport.decode(response, response.request.method or "", response.request.url or "")
        return dict(body) if isinstance(body, dict) else {}

    # -- user and spaces ----------------------------------------------------------------------
    def get_user(self) -> Record:
        """The authenticated user (scope read_user).

        API 2: ``id``, ``type``, ``email``, ``adminOfIds``, ``memberOfIds``, ``membershipsIds``;
        API 1 (``api=1``): ``id``, ``email``, ``memberships`` and ``admin_of``.
        """
        if self.api_version == 2:
            return self.api2.one("get-user")
        return self._v1_user()

    def _v1_user(self) -> Record:
        return self._record("/api/user")

    def list_spaces(self, details: bool = False) -> list[Record]:
        """The spaces the user is a member or an admin of, one entry per space.

        Each has ``subdomain``, ``name``, ``link``, ``admin`` (bool) and ``membership_id`` (or None);
        with ``details`` also the space's public details from ``GET /api/spaces/<subdomain>``.
        """
        user = self._v1_user()  # API 2 has no list of spaces with their subdomains and links: API 1
        spaces: dict[str, Record] = {}
        for entry in user.get("admin_of") or []:
            sub = entry.get("space_subdomain")
            spaces[sub] = {
                "subdomain": sub,
                "name": entry.get("space_name"),
                "link": entry.get("space_link"),
                "admin": True,
                "membership_id": None,
            }
        for entry in user.get("memberships") or []:
            sub = entry.get("space_subdomain")
            space = spaces.setdefault(
                sub,
                {
                    "subdomain": sub,
                    "name": entry.get("space_name"),
                    "link": entry.get("space_link"),
                    "admin": False,
                },
            )
            space["membership_id"] = entry.get("id")
        result = sorted(spaces.values(), key=lambda s: str(s["subdomain"]))
        if details:
            for space in result:
                space["details"] = self._v1_space(space["subdomain"])
        return result

    def get_space(self, subdomain: str | None = None) -> Record:
        """A space's details (API 2: ``get-space``, scope read_spaces; API 1: its public details)."""
        if self.api_version == 2:
            return self.api2.one("get-space", {"spaceId": self.api2.space_id(subdomain)})
        return self._v1_space(subdomain or self.default_space)

    def _v1_space(self, subdomain: str | None) -> Record:
        return self._record(build("api", "spaces", (subdomain, "subdomain")))

    # -- memberships --------------------------------------------------------------------------
    def list_memberships(
        self, space: str | None = None, start: Any = None, end: Any = None, *, limit: int | None = None
    ) -> Iterable[Record]:
        """The memberships of the space (admins; scope read_memberships).

        API 2: those active from ``start`` to ``end`` (default: today), page by page;
        API 1: all of them (limited to 6 calls per minute).
        """
        if self.api_version == 2:
            return self.api2.pages("get-space-memberships", self._space_period(space, start, end), limit=limit)
        return self._items(self._space_path(space, "memberships"))

    def get_membership(self, membership_id: str, space: str | None = None) -> Record:
        if self.api_version == 2:
            return self.api2.one("get-membership", {"id": membership_id})
        return self._record(self._space_path(space, "memberships", (membership_id, "membership_id")))

    def list_membership_plans(
        self, space: str | None = None, start: Any = None, end: Any = None, *, limit: int | None = None
    ) -> Iterable[Record]:
        """The plans of the memberships active from ``start`` to ``end`` (default today; API 2)."""
        return self.api2.pages("get-space-membership-plans", self._space_period(space, start, end), limit=limit)

    def _space_period(
        self, space: str | None, start: Any, end: Any, *, today: bool = True, times: bool = False
    ) -> dict[str, Any]:
        """``spaceId`` and the spec's ``filter[from]`` / ``filter[to]`` (both today when not given)."""
        return {"spaceId": self.api2.space_id(space), **api2_period(start, end, today=today, times=times)}

    # -- invoices -----------------------------------------------------------------------------
    def list_invoices(
        self,
        start: Any = None,
        end: Any = None,
        *,
        ids: list[str] | str | None = None,
        space: str | None = None,
        paid_status: str | None = None,
        limit: int | None = None,
    ) -> Iterable[Record]:
        """Invoices dated from ``start`` to ``end`` (inclusive), or those with the given ``ids``."""
        if self.api_version == 2:
            if ids is not None and ids != "":
                return [self.get_invoice(invoice_id) for invoice_id in arguments.texts(ids, "ids")]
            period = self._space_period(space, start, end, today=False)
            period["filter[paidStatus]"] = arguments.optional_text(paid_status, "paid_status", max_length=50)
            return self.api2.pages("get-space-invoices", period, limit=limit)
        if ids is not None and ids != "":
            return self._items(self._space_path(space, "invoices"), {"ids": ",".join(arguments.texts(ids, "ids"))})
        period = {"from": moment(start, "start"), "to": moment(end, "end")}
        return self._items(self._space_path(space, "invoices"), period)

    def get_invoice(self, invoice_id: str) -> Record:
        return self.api2.one("get-invoice", {"id": invoice_id})

    def download_invoice_pdf(self, invoice_id: str) -> bytes:
        """The invoice as a PDF document (API 2 ``get-invoice-pdf``)."""
        response = self.api2.request("get-invoice-pdf", {"id": invoice_id}, accept="application/pdf")
        if not response.content.startswith(b"%PDF"):
            kind = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
            raise ValidationError(
                f"Cobot answered the invoice PDF request with {kind}, not a PDF.",
                vendor=self.vendor,
                hint="Check COBOT_API_URL: it should point at Cobot's API 2.",
            )
        return response.content

    # -- bookings and resources -----------------------------------------------------------------
    def list_bookings(
        self,
        start: Any,
        end: Any,
        *,
        resource_id: str | None = None,
        limit: int | None = None,
        space: str | None = None,
    ) -> list[Record]:
        """Bookings overlapping ``start``..``end`` (all of the space for admins, the user's own otherwise)."""
        if self.api_version == 2:
            wanted = arguments.optional_text(resource_id, "resource_id", max_length=200) if resource_id else None
            found: Iterable[Record] = self.api2.pages(
                "get-space-bookings",
                self._space_period(space, start, end, times=True),
                limit=None if wanted else limit,
            )
            # API 2 filters a space's bookings by period only; one resource's are picked from those.
            if wanted:
                found = (booking for booking in found if booking.get("resourceId") == wanted)
            return list(itertools.islice(found, limit) if limit else found)
        period = {"from": moment(start, "start"), "to": moment(end, "end"), "limit": arguments.limit(limit)}
        path = (
            self._space_path(space, "resources", (resource_id, "resource_id"), "bookings")
            if resource_id is not None and resource_id != ""
            else self._space_path(space, "bookings")
        )
        return self._items(path, period)

    def get_booking(self, booking_id: str, space: str | None = None) -> Record:
        if self.api_version == 2:
            return self.api2.one("get-booking", {"id": booking_id})
        return self._record(self._space_path(space, "bookings", (booking_id, "booking_id")))

    def create_booking(
        self,
        resource_id: str,
        start: Any,
        end: Any,
        *,
        title: str | None = None,
        comments: str | None = None,
        membership_id: str | None = None,
        space: str | None = None,
        **fields: Any,
    ) -> Record:
        """Book a resource. Admins may book for another ``membership_id``. Not retried after a lost answer:
        Cobot has no idempotency keys, so a repeat could double-book."""
        if self.api_version == 2:
            relationships: dict[str, Any] = {"resource": _linkage("resources", resource_id, "resource_id")}
            if membership_id not in (None, ""):
                relationships["membership"] = _linkage("memberships", membership_id, "membership_id")
            document = {
                "data": {
                    "type": "bookings",
                    "attributes": _booking_attributes(start, end, title, comments, fields),
                    "relationships": relationships,
                }
            }
            return self.api2.one(
                "create-admin-booking",
                body=document,
                error_context="Cobot may or may not have created the booking: list the bookings before booking again.",
            )
        body = _booking(start, end, title, comments, fields, membership_id=membership_id)
        response = self.transport.request(
            "POST",
            self._space_path(space, "resources", (resource_id, "resource_id"), "bookings"),
            json={k: v for k, v in body.items() if v is not None},
            error_context="Cobot may or may not have created the booking: list the bookings before booking again.",
        )
        return self._one(response)

    def update_booking(
        self,
        booking_id: str,
        *,
        start: Any = None,
        end: Any = None,
        title: str | None = None,
        comments: str | None = None,
        space: str | None = None,
        **fields: Any,
    ) -> Record:
        if self.api_version == 2:
            attributes = _booking_attributes(start, end, title, comments, fields)
            if not attributes:
                raise ConfigurationError("Nothing to update.", hint="Pass start, end, title or comments.")
            key = arguments.text(booking_id, "booking_id", max_length=200)
            document = {"data": {"type": "bookings", "id": key, "attributes": attributes}}
            return self.api2.one("update-space-booking", {"id": booking_id}, body=document)
        body = _booking(start, end, title, comments, fields)
        changes = {k: v for k, v in body.items() if v is not None}
        if not changes:
            raise ConfigurationError("Nothing to update.", hint="Pass start, end, title or comments.")
        return self._one(
            self.transport.request("PUT", self._space_path(space, "bookings", (booking_id, "booking_id")), json=changes)
        )

    def delete_booking(self, booking_id: str, space: str | None = None) -> None:
        if self.api_version == 2:
            self.api2.request("delete-space-booking", {"id": booking_id})
            return
        self.transport.request("DELETE", self._space_path(space, "bookings", (booking_id, "booking_id")))

    def list_resources(self, ids: list[str] | str | None = None, space: str | None = None) -> list[Record]:
        if self.api_version == 2:
            wanted = set(arguments.texts(ids, "ids")) if ids is not None and ids != "" else None
            every = self.api2.pages("get-resources", {"spaceId": self.api2.space_id(space)})
            return [resource for resource in every if wanted is None or resource.get("id") in wanted]
        chosen = ",".join(arguments.texts(ids, "ids")) if ids is not None and ids != "" else None
        return self._items(self._space_path(space, "resources"), {"ids": chosen})

    def get_resource_availability(self, resource_id: str, start: Any, end: Any) -> Record:
        """When a resource is free from ``start`` to ``end``: ``availableTimes`` (``from``, ``to``) (API 2)."""
        window = api2_period(start, end, today=False, times=True)
        return self.api2.one("get-resource-availbility", {"id": resource_id, **window})

    # -- check-ins and time passes ------------------------------------------------------------------
    def check_in(self, check_in_token: str, space: str | None = None) -> Record:
        """Check in the membership a check-in token belongs to (an RFID or MAC token; API 2 ``create-check-in``)."""
        token = arguments.text(check_in_token, "check_in_token", max_length=500)
        document = {
            "data": {
                "type": "checkIns",
                "attributes": {"checkInToken": token},
                "relationships": {"space": {"data": {"type": "spaces", "id": self.api2.space_id(space)}}},
            }
        }
        return self.api2.one(
            "create-check-in", body=document, error_context="List the current check-ins before checking in again."
        )

    def check_out(self, check_in_id: str) -> Record:
        """End a check-in now (API 2 ``create-check-out``); answers the check-in with its new ``validUntil``."""
        return self.api2.one("create-check-out", {"id": check_in_id})

    def list_current_check_ins(
        self, check_in_token: str, space: str | None = None, *, limit: int | None = None
    ) -> Iterable[Record]:
        """The running check-ins of the membership a check-in token belongs to (API 2)."""
        token = arguments.text(check_in_token, "check_in_token", max_length=500)
        return self.api2.pages(
            "list-space-check-ins-current",
            {"spaceId": self.api2.space_id(space), "filter[checkInToken]": token},
            limit=limit,
        )

    def list_check_ins(
        self, membership_id: str | None = None, start: Any = None, end: Any = None, space: str | None = None
    ) -> list[Record]:
        """Today's check-ins of the space, or one membership's check-ins from ``start`` to ``end``."""
        period = {"from": moment(start, "start"), "to": moment(end, "end")}
        if membership_id is not None and membership_id != "" and self.api_version == 2:
            window = api2_period(start, end, today=True, times=True)
            return list(self.api2.pages("get-membership-check-ins", {"membershipId": membership_id, **window}))
        if membership_id is not None and membership_id != "":
            return self._items(
                self._space_path(space, "memberships", (membership_id, "membership_id"), "check_ins"), period
            )
        if period["from"] or period["to"]:
            raise ConfigurationError(
                "Cobot lists the check-ins of a whole space for today only.",
                hint="Pass membership_id to list one membership's check-ins of a period.",
            )
        return self._items(self._space_path(space, "check_ins"))

    def list_time_passes(self, membership_id: str | None = None, space: str | None = None) -> list[Record]:
        """Unused time passes of the space (admins) or of one membership."""
        if membership_id is not None and membership_id != "":
            return self._items(
                self._space_path(space, "memberships", (membership_id, "membership_id"), "time_passes", "unused")
            )
        return self._items(self._space_path(space, "time_passes", "unused"))

    # -- events, contacts, teams (API 2) -------------------------------------------------------------
    def list_events(
        self,
        start: Any = None,
        end: Any = None,
        *,
        published_state: str = "published",
        space: str | None = None,
        limit: int | None = None,
    ) -> Iterable[Record]:
        """The space's events from ``start`` to ``end`` (default today) in a published state (draft/published)."""
        period = self._space_period(space, start, end, times=True)
        period["filter[publishedState]"] = arguments.text(published_state, "published_state", max_length=50)
        return self.api2.pages("list-events", period, limit=limit)

    def list_contacts(self, space: str | None = None, *, limit: int | None = None) -> Iterable[Record]:
        return self.api2.pages("get-space-contacts", {"spaceId": self.api2.space_id(space)}, limit=limit)

    def list_teams(
        self, start: Any = None, end: Any = None, *, space: str | None = None, limit: int | None = None
    ) -> Iterable[Record]:
        return self.api2.pages("get-space-teams", self._space_period(space, start, end), limit=limit)

    def call_api(self, operation_id: str, body: Any = None, **parameters: Any) -> Any:
        """Any API 2 operation by its operationId, parameters by the spec's names; the decoded JSON:API answer.

        A collection's answer is its first page; pass ``page[number]`` and ``page[size]`` for others.
        ``fields[<type>]`` (sparse fieldsets, e.g. ``fields[users]=email``) applies to every operation.
        """
        op = arguments.text(operation_id, "operation_id", max_length=200)
        # Paging and sparse fieldsets are JSON:API's, for every operation; the spec lists them per operation only
        # in its introduction.
        general = [name for name in parameters if name in ("page[number]", "page[size]") or SPARSE.match(name)]
        extra = {name: arguments.text(parameters.pop(name), name, max_length=2000) for name in general}
        return self.api2.document(op, parameters, body=body, params=extra or None)

    # -- webhooks ---------------------------------------------------------------------------------
    def subscribe_webhook(self, event: str, callback_url: str, space: str | None = None) -> Record:
        """Subscribe ``callback_url`` to ``event`` (e.g. ``created_booking``); 409 when it already is."""
        body = {
            "event": arguments.text(event, "event", max_length=200),
            "callback_url": arguments.text(callback_url, "callback_url"),
        }
        response = self.transport.request(
            "POST",
            self._space_path(space, "subscriptions"),
            json=body,
            error_context="List the webhook subscriptions to see whether it was created.",
        )
        return self._one(response)

    def list_webhook_subscriptions(self, space: str | None = None) -> list[Record]:
        return self._items(self._space_path(space, "subscriptions"))

    def delete_webhook_subscription(self, subscription_id: str, space: str | None = None) -> None:
        self.transport.request("DELETE", self._space_path(space, "subscriptions", (subscription_id, "subscription_id")))

    # -- OpenID Connect -----------------------------------------------------------------------------
    def stored_id_token(self) -> str:
        if not isinstance(self.auth, OAuth2Auth):
            raise AuthenticationError(
                "This connection uses an access token, which carries no id token.",
                hint="Log in with 'connectors login cobot --scope openid' and connect with client_id, "
                "or pass the id token.",
            )
        token = self.auth.store.get(self.auth.key) or {}
        if not token.get("id_token"):
            raise AuthenticationError(
                f"The token stored under {self.auth.key!r} has no id token.",
                hint="Log in again including the scope openid: 'connectors login cobot --scope openid …'.",
            )
        return str(token["id_token"])

    def openid_provider(self, space: str | None = None) -> OpenIDProvider:
        base = self.space_url(space) if space else self.url
        return OpenIDProvider.for_url(base + DISCOVERY_PATH)

    def get_identity(self, id_token: Any = None, *, space: str | None = None, client_id: str | None = None) -> Record:
        """The verified claims of an id token (default: the one stored by ``connectors login cobot``).

        Verified against the discovery document and JWKS of Cobot (or of ``space``, whose id tokens
        add the membership's name, picture and phone number): signature, ``iss``, ``aud``, ``exp``, ``iat``.
        """
        token = arguments.credential(id_token, "id_token") or self.stored_id_token()
        if not (token.isascii() and token.isprintable()):
            # A JWT is three base64url parts: anything else is refused here, never echoed.
            raise AuthenticationError("The id token is not a JWT.", hint="Pass the id token itself, or none.")
        audience = require(
            arguments.optional_text(client_id, "client_id", max_length=500) or self.client_id,
            "The Cobot OAuth client id (the id token's audience)",
            "COBOT_CLIENT_ID",
        )
        claims = verify_id_token(token, provider=self.openid_provider(space), audience=audience)
        log.info(f"Verified the Cobot id token of subject {claims.get('sub')} (issuer {claims.get('iss')}).")
        return claims


def api2_period(start: Any, end: Any, *, today: bool = True, times: bool = False) -> dict[str, str | None]:
    """API 2's ``filter[from]`` / ``filter[to]``: ISO dates, or for ``times`` date-times with an offset
    (a date alone spans the whole day, in UTC). ``today``: both default to today."""
    first, last = _api2_moment(start, "start", times, False), _api2_moment(end, "end", times, True)
    if today:
        now = datetime.now(timezone.utc)
        first = first or (now.strftime("%Y-%m-%dT00:00:00Z") if times else now.date().isoformat())
        last = last or (now.strftime("%Y-%m-%dT23:59:59Z") if times else now.date().isoformat())
    return {"filter[from]": first, "filter[to]": last}


def _api2_moment(value: Any, argument: str, times: bool, end: bool) -> str | None:
    text = moment(value, argument)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00")) if len(text) > 10 else None
        day = date.fromisoformat(text[:10])
    except ValueError:
        raise ValidationError(
            f"{argument} must be an ISO 8601 date or date-time, got {arguments.describe(text)}.",
            hint="Write it like 2025-03-01 or 2025-03-01T10:00:00Z.",
        ) from None
    if not times:
        return day.isoformat()
    if parsed is None:
        return f"{day.isoformat()}T{'23:59:59' if end else '00:00:00'}Z"
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return parsed.isoformat(timespec="seconds").replace("+00:00", "Z")


def _api_version(value: str | None, source: str) -> int:
    if value in (None, "", "2"):
        return 2
    if value == "1":
        return 1
    raise ConfigurationError(f"api must be 1 or 2, got {value!r} ({source}).", hint="Leave it unset for API 2.")


def _linkage(kind: str, value: Any, argument: str) -> dict[str, Any]:
    return {"data": {"type": kind, "id": arguments.text(value, argument, max_length=200)}}


def _booking_attributes(start: Any, end: Any, title: Any, comments: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """API 2 booking attributes: the period, title, comments and any other attributes as the spec names them."""
    given = {
        "from": _api2_moment(start, "start", True, False),
        "to": _api2_moment(end, "end", True, True),
        "title": arguments.optional_text(title, "title", max_length=500),
        "comments": arguments.optional_text(comments, "comments", max_length=10_000, multiline=True),
    }
    return {**arguments.mapping(fields, "fields"), **{k: v for k, v in given.items() if v is not None}}


def _booking(start: Any, end: Any, title: Any, comments: Any, fields: dict[str, Any], **more: Any) -> dict[str, Any]:
    """The body of a booking create or update: the period, title, comments and any other fields."""
    given = {
        "from": moment(start, "start"),
        "to": moment(end, "end"),
        "title": arguments.optional_text(title, "title", max_length=500),
        "comments": arguments.optional_text(comments, "comments", max_length=10_000, multiline=True),
        **{name: arguments.optional_text(value, name, max_length=200) for name, value in more.items()},
    }
    return {**arguments.mapping(fields, "fields"), **{k: v for k, v in given.items() if v is not None}}
