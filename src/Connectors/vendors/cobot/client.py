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

import re
from collections.abc import Sequence
from datetime import date, datetime
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
from Connectors.vendors.cobot.profile import COBOT

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from Connectors.vendors.typed import CobotSettings


SUBDOMAIN_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
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

    @property
    def space_url_template(self) -> str:
        return space_url_template(self.url, self.settings.text("space_url_template"))

    def trusted_origins(self) -> Sequence[str]:
        # Space addresses derive from COBOT_URL (or the template the user set): nowhere else gets the token.
        template = space_url_template(self.url, self.settings.text("space_url_template"))
        parts = urlsplit(template.replace("{subdomain}", "*"))
        return (f"{parts.scheme}://{parts.netloc}",)

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
        """The authenticated user: ``id``, ``email``, ``memberships`` and ``admin_of`` (scope read_user)."""
        return self._record("/api/user")

    def list_spaces(self, details: bool = False) -> list[Record]:
        """The spaces the user is a member or an admin of, one entry per space.

        Each has ``subdomain``, ``name``, ``link``, ``admin`` (bool) and ``membership_id`` (or None);
        with ``details`` also the space's public details from ``GET /api/spaces/<subdomain>``.
        """
        user = self.get_user()
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
                space["details"] = self.get_space(space["subdomain"])
        return result

    def get_space(self, subdomain: str) -> Record:
        """A space's public details (name, url, currency, time zone …)."""
        return self._record(build("api", "spaces", (subdomain, "subdomain")))

    # -- memberships --------------------------------------------------------------------------
    def list_memberships(self, space: str | None = None) -> list[Record]:
        """All memberships of the space (admins; scope read_memberships; limited to 6 calls per minute)."""
        return self._items(self._space_path(space, "memberships"))

    def get_membership(self, membership_id: str, space: str | None = None) -> Record:
        return self._record(self._space_path(space, "memberships", (membership_id, "membership_id")))

    # -- invoices -----------------------------------------------------------------------------
    def list_invoices(
        self, start: Any = None, end: Any = None, *, ids: list[str] | str | None = None, space: str | None = None
    ) -> list[Record]:
        """Invoices dated from ``start`` to ``end`` (inclusive), or those with the given ``ids``."""
        if ids is not None and ids != "":
            return self._items(self._space_path(space, "invoices"), {"ids": ",".join(arguments.texts(ids, "ids"))})
        period = {"from": moment(start, "start"), "to": moment(end, "end")}
        return self._items(self._space_path(space, "invoices"), period)

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
        period = {"from": moment(start, "start"), "to": moment(end, "end"), "limit": arguments.limit(limit)}
        path = (
            self._space_path(space, "resources", (resource_id, "resource_id"), "bookings")
            if resource_id is not None and resource_id != ""
            else self._space_path(space, "bookings")
        )
        return self._items(path, period)

    def get_booking(self, booking_id: str, space: str | None = None) -> Record:
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
        body = _booking(start, end, title, comments, fields)
        changes = {k: v for k, v in body.items() if v is not None}
        if not changes:
            raise ConfigurationError("Nothing to update.", hint="Pass start, end, title or comments.")
        return self._one(
            self.transport.request("PUT", self._space_path(space, "bookings", (booking_id, "booking_id")), json=changes)
        )

    def delete_booking(self, booking_id: str, space: str | None = None) -> None:
        self.transport.request("DELETE", self._space_path(space, "bookings", (booking_id, "booking_id")))

    def list_resources(self, ids: list[str] | str | None = None, space: str | None = None) -> list[Record]:
        chosen = ",".join(arguments.texts(ids, "ids")) if ids is not None and ids != "" else None
        return self._items(self._space_path(space, "resources"), {"ids": chosen})

    # -- check-ins and time passes ------------------------------------------------------------------
    def list_check_ins(
        self, membership_id: str | None = None, start: Any = None, end: Any = None, space: str | None = None
    ) -> list[Record]:
        """Today's check-ins of the space, or one membership's check-ins from ``start`` to ``end``."""
        period = {"from": moment(start, "start"), "to": moment(end, "end")}
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
