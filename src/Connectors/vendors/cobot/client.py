"""``CobotClient``: Cobot's v1 REST API (user level and per space) as typed Python methods.

User-level calls go to ``COBOT_URL`` (``https://www.cobot.me``); a space's data lives under its own
host, built from ``COBOT_SPACE_URL_TEMPLATE`` (``https://{subdomain}.cobot.me``). Everything goes
through the core ``Transport``: one throttle for the user (60/min) with the per-endpoint bucket for
``GET /api/memberships`` (6/min), retries honouring ``Retry-After``, and typed errors; 422 answers are
reported field by field.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import requests

from Connectors.core import log
from Connectors.core.auth import Auth, BearerAuth, OAuth2Auth
from Connectors.core.config import RateSpec, env, require, secret_value
from Connectors.core.errors import AuthenticationError, ConfigurationError
from Connectors.core.oidc import DISCOVERY_PATH, OpenIDProvider, verify_id_token
from Connectors.core.throttle import EndpointLimit
from Connectors.core.tokens import TokenStore
from Connectors.core.vault import get_secret
from Connectors.vendors.base import BaseClient

DEFAULT_URL = "https://www.cobot.me"
DEFAULT_SPACE_URL_TEMPLATE = "https://{subdomain}.cobot.me"
# Cobot counts "requests per minute"; whether in fixed windows, sliding windows or a bucket is not
# documented. Evenly spaced requests (burst 1) at 98% of the limit stay under it in any minute
# whatever the server counts; a bigger burst could be refused at a window boundary.
DEFAULT_RATE = RateSpec(60, 60, burst=1)
MEMBERSHIPS_RATE = RateSpec(6, 60, burst=1)
SUBDOMAIN_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
Record = dict[str, Any]


def cobot_error_message(response: requests.Response) -> str:
    """Cobot's errors: ``{"errors": {"field": "message" | [messages]}}`` (422) or ``{"error": "…"}``."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    if not isinstance(body, dict):
        return json.dumps(body)[:300]
    errors = body.get("errors")
    if isinstance(errors, dict) and errors:
        parts = []
        for name, messages in errors.items():
            texts = messages if isinstance(messages, list) else [messages]
            field = "" if name == "base" else f"{name}: "
            parts.append(field + ", ".join(str(text) for text in texts))
        return "; ".join(parts)[:500]
    if isinstance(errors, list) and errors:
        return "; ".join(str(item) for item in errors)[:500]
    for name in ("error_description", "message", "error"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return value[:300]
    return json.dumps(body)[:300]


def token_store_key(client_id: str) -> str:
    """Where ``connectors login cobot`` keeps the token of an OAuth client."""
    return f"cobot:{client_id}"


def _store(token_store: str | os.PathLike[str] | None) -> TokenStore:
    location = token_store or env("CONNECTORS_TOKEN_STORE")
    return TokenStore(os.fspath(location) if location else None)


def resolve_auth(
    url: str,
    *,
    access_token: Any = None,
    client_id: str | None = None,
    client_secret: Any = None,
    token_store: str | os.PathLike[str] | None = None,
    vault_secret: str | None = None,
) -> Auth:
    """Pick the credentials: arguments, then a Vault secret, then ``COBOT_*`` variables.

    Order: ``access_token`` → ``client_id`` (token store filled by ``connectors login cobot``) →
    ``vault_secret`` → ``COBOT_ACCESS_TOKEN`` → the Vault secret named by ``CONNECTORS_VAULT_SECRET``
    → ``COBOT_CLIENT_ID`` with the token store.
    """
    token = secret_value(access_token)
    if token:
        return BearerAuth(token)
    if client_id:
        return _oauth(
            url,
            client_id,
            secret_value(client_secret) or secret_value(env("COBOT_CLIENT_SECRET")),
            token_store,
        )
    if vault_secret:
        return _from_vault(url, vault_secret, token_store)
    token = secret_value(env("COBOT_ACCESS_TOKEN"))
    if token:
        return BearerAuth(token)
    named = env("CONNECTORS_VAULT_SECRET")
    if named:
        return _from_vault(url, named, token_store)
    if env("COBOT_CLIENT_ID"):
        return _oauth(url, env("COBOT_CLIENT_ID"), secret_value(env("COBOT_CLIENT_SECRET")), token_store)
    raise ConfigurationError(
        "No Cobot credentials are configured.",
        hint="Set COBOT_ACCESS_TOKEN, or COBOT_CLIENT_ID (and COBOT_CLIENT_SECRET) after 'connectors login "
        "cobot', or name a Vault secret with CONNECTORS_VAULT_SECRET.",
    )


def _oauth(
    url: str, client_id: str | None, client_secret: str | None, token_store: str | os.PathLike[str] | None
) -> OAuth2Auth:
    client_id = require(client_id, "The Cobot OAuth client id", "COBOT_CLIENT_ID")
    # Cobot's tokens are long-lived; the secret is only needed if a token ever comes with a refresh token.
    return OAuth2Auth(
        _store(token_store), token_store_key(client_id), f"{url}/oauth/access_token", client_id, client_secret
    )


def _from_vault(url: str, name: str, token_store: str | os.PathLike[str] | None) -> Auth:
    values = get_secret(name)
    token = values.get("access_token") or values.get("COBOT_ACCESS_TOKEN")
    if token:
        return BearerAuth(token)
    client_id = values.get("client_id") or values.get("COBOT_CLIENT_ID")
    if client_id:
        return _oauth(url, client_id, values.get("client_secret") or values.get("COBOT_CLIENT_SECRET"), token_store)
    raise ConfigurationError(
        f"Vault secret {name!r} holds no Cobot credentials.",
        hint="Give it the key access_token, or client_id and client_secret.",
    )


def _hints(auth: Auth) -> dict[int, str]:
    if isinstance(auth, OAuth2Auth):
        unauthorized = (
            f"The stored token was refused: run 'connectors login cobot' again "
            f"(token store {auth.store.path}, key {auth.key!r})."
        )
    else:
        unauthorized = (
            "The access token is invalid or was revoked: set COBOT_ACCESS_TOKEN to a valid token, "
            "or log in with 'connectors login cobot'."
        )
    return {
        401: unauthorized,
        403: (
            "The token lacks the scope for this call, or the user is not an admin of the space (an admin's "
            "permissions may have been reduced): log in again with the scope, e.g. "
            "'connectors login cobot --scope read_invoices'."
        ),
        404: "Check the space subdomain and the id.",
        409: "It exists already: list the existing ones first.",
        422: "Fix the fields named above and try again.",
        429: (
            "Cobot allows 60 requests per minute per user (memberships: 6 per minute): lower "
            "COBOT_RATE_LIMIT, "
            "or share the throttle between robots of one user with CONNECTORS_THROTTLE_STORE."
        ),
    }


def build_space_url(template: str | None, subdomain: str | None) -> str:
    """A space's base URL from the template (``https://{subdomain}.cobot.me``) and its subdomain."""
    template = template or env("COBOT_SPACE_URL_TEMPLATE", DEFAULT_SPACE_URL_TEMPLATE) or DEFAULT_SPACE_URL_TEMPLATE
    if "{subdomain}" not in template:
        raise ConfigurationError(
            f"Invalid space URL template {template!r}.",
            hint="It must contain {subdomain}, e.g. https://{subdomain}.cobot.me.",
        )
    name = (subdomain or "").strip().lower()
    if not name:
        raise ConfigurationError(
            "No Cobot space was given.",
            hint="Pass space=<subdomain> or set COBOT_SPACE (see List Cobot Spaces).",
        )
    if not SUBDOMAIN_RE.match(name):
        raise ConfigurationError(
            f"{subdomain!r} is not a Cobot space subdomain.",
            hint="Use the subdomain, e.g. my-space for https://my-space.cobot.me.",
        )
    return template.rstrip("/").format(subdomain=name)


def moment(value: Any) -> str | None:
    """A ``from`` / ``to`` value as Cobot takes it: ISO 8601 for dates and date-times, text as given."""
    if value is None or value == "":
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


def _rate_scale(value: float | str | None) -> float:
    text = value if value not in (None, "") else env("COBOT_RATE_SCALE", "1")
    try:
        scale = float(str(text))
    except ValueError:
        scale = 0
    if scale <= 0:
        raise ConfigurationError(
            f"Invalid Cobot rate scale {text!r}.",
            hint="COBOT_RATE_SCALE multiplies Cobot's limits; use a positive number.",
        )
    return scale


def _scaled(spec: RateSpec, scale: float) -> RateSpec:
    # The burst stays as it is: pacing, not bursting, is what keeps a client safe.
    return RateSpec(spec.limit * scale, spec.period, spec.burst)


class CobotClient(BaseClient):
    """Cobot's v1 API for Python tasks (``from Connectors import CobotClient``).

    With no arguments it reads ``COBOT_URL``, ``COBOT_ACCESS_TOKEN`` (or ``COBOT_CLIENT_ID`` with the
    token store, or a Vault secret), ``COBOT_SPACE`` (the default space), ``COBOT_SPACE_URL_TEMPLATE``
    and the ``COBOT_RATE_LIMIT`` / ``COBOT_RATE_BURST`` / ``COBOT_RATE_SCALE`` overrides.
    """

    vendor = "Cobot"
    env_prefix = "COBOT"

    def __init__(
        self,
        url: str | None = None,
        *,
        access_token: Any = None,
        client_id: str | None = None,
        client_secret: Any = None,
        token_store: str | os.PathLike[str] | None = None,
        vault_secret: str | None = None,
        space: str | None = None,
        space_url_template: str | None = None,
        rate_limit: str | RateSpec | None = None,
        burst: int | str | None = None,
        rate_scale: float | str | None = None,
        timeout: float | tuple[float, float] | None = None,
        throttle_store: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        root = (url or env("COBOT_URL", DEFAULT_URL) or DEFAULT_URL).rstrip("/")
        auth = resolve_auth(
            root,
            access_token=access_token,
            client_id=client_id,
            client_secret=client_secret,
            token_store=token_store,
            vault_secret=vault_secret,
        )
        scale = _rate_scale(rate_scale)
        template = space_url_template or env("COBOT_SPACE_URL_TEMPLATE") or DEFAULT_SPACE_URL_TEMPLATE
        build_space_url(template, "check")  # fail early on a malformed template
        super().__init__(
            base_url=root,
            auth=auth,
            default_rate=_scaled(DEFAULT_RATE, scale),
            rate_limit=rate_limit,
            burst=burst,
            throttle_store=throttle_store,
            timeout=timeout,
            session=session,
            endpoint_limits=[
                EndpointLimit(r"/api/memberships$", _scaled(MEMBERSHIPS_RATE, scale), method="GET", name="memberships")
            ],
            # One user, one budget: space hosts and www share the bucket (the key has no host in it).
            throttle_scope="cobot",
            error_message=cobot_error_message,
            hints=_hints(auth),
        )
        self.url = root
        self.space_url_template = template.rstrip("/")
        self.default_space = space or env("COBOT_SPACE")
        self.client_id = client_id or (auth.client_id if isinstance(auth, OAuth2Auth) else env("COBOT_CLIENT_ID"))

    def __repr__(self) -> str:
        return f"CobotClient({self.url!r}, {self.auth.describe()}, space={self.default_space!r})"

    # -- addressing -------------------------------------------------------------------------
    def space_url(self, space: str | None = None) -> str:
        return build_space_url(self.space_url_template, space or self.default_space)

    def _space_path(self, space: str | None, *parts: Any) -> str:
        return self.space_url(space) + "/api/" + "/".join(quote(str(p), safe="") for p in parts)

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        return self.transport.request("GET", path, params=clean or None).json()

    # -- user and spaces ----------------------------------------------------------------------
    def get_user(self) -> Record:
        """The authenticated user: ``id``, ``email``, ``memberships`` and ``admin_of`` (scope read_user)."""
        return dict(self._get("/api/user"))

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
        return dict(self._get(f"/api/spaces/{quote(subdomain, safe='')}"))

    # -- memberships --------------------------------------------------------------------------
    def list_memberships(self, space: str | None = None) -> list[Record]:
        """All memberships of the space (admins; scope read_memberships; limited to 6 calls per minute)."""
        return list(self._get(self._space_path(space, "memberships")))

    def get_membership(self, membership_id: str, space: str | None = None) -> Record:
        return dict(self._get(self._space_path(space, "memberships", membership_id)))

    # -- invoices -----------------------------------------------------------------------------
    def list_invoices(
        self, start: Any = None, end: Any = None, *, ids: list[str] | None = None, space: str | None = None
    ) -> list[Record]:
        """Invoices dated from ``start`` to ``end`` (inclusive), or those with the given ``ids``."""
        if ids:
            return list(self._get(self._space_path(space, "invoices"), {"ids": ",".join(map(str, ids))}))
        return list(self._get(self._space_path(space, "invoices"), {"from": moment(start), "to": moment(end)}))

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
        path = (
            self._space_path(space, "resources", resource_id, "bookings")
            if resource_id
            else self._space_path(space, "bookings")
        )
        return list(self._get(path, {"from": moment(start), "to": moment(end), "limit": limit}))

    def get_booking(self, booking_id: str, space: str | None = None) -> Record:
        return dict(self._get(self._space_path(space, "bookings", booking_id)))

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
        body = {
            "from": moment(start),
            "to": moment(end),
            "title": title,
            "comments": comments,
            "membership_id": membership_id,
            **fields,
        }
        response = self.transport.request(
            "POST",
            self._space_path(space, "resources", resource_id, "bookings"),
            json={k: v for k, v in body.items() if v is not None},
            error_context="Cobot may or may not have created the booking: list the bookings before booking again.",
        )
        return dict(response.json())

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
        body = {"from": moment(start), "to": moment(end), "title": title, "comments": comments, **fields}
        changes = {k: v for k, v in body.items() if v is not None}
        if not changes:
            raise ConfigurationError("Nothing to update.", hint="Pass start, end, title or comments.")
        return dict(self.transport.request("PUT", self._space_path(space, "bookings", booking_id), json=changes).json())

    def delete_booking(self, booking_id: str, space: str | None = None) -> None:
        self.transport.request("DELETE", self._space_path(space, "bookings", booking_id))

    def list_resources(self, ids: list[str] | None = None, space: str | None = None) -> list[Record]:
        return list(self._get(self._space_path(space, "resources"), {"ids": ",".join(map(str, ids)) if ids else None}))

    # -- check-ins and time passes ------------------------------------------------------------------
    def list_check_ins(
        self, membership_id: str | None = None, start: Any = None, end: Any = None, space: str | None = None
    ) -> list[Record]:
        """Today's check-ins of the space, or one membership's check-ins from ``start`` to ``end``."""
        if membership_id:
            return list(
                self._get(
                    self._space_path(space, "memberships", membership_id, "check_ins"),
                    {"from": moment(start), "to": moment(end)},
                )
            )
        if start is not None or end is not None:
            raise ConfigurationError(
                "Cobot lists the check-ins of a whole space for today only.",
                hint="Pass membership_id to list one membership's check-ins of a period.",
            )
        return list(self._get(self._space_path(space, "check_ins")))

    def list_time_passes(self, membership_id: str | None = None, space: str | None = None) -> list[Record]:
        """Unused time passes of the space (admins) or of one membership."""
        if membership_id:
            return list(self._get(self._space_path(space, "memberships", membership_id, "time_passes", "unused")))
        return list(self._get(self._space_path(space, "time_passes", "unused")))

    # -- webhooks ---------------------------------------------------------------------------------
    def subscribe_webhook(self, event: str, callback_url: str, space: str | None = None) -> Record:
        """Subscribe ``callback_url`` to ``event`` (e.g. ``created_booking``); 409 when it already is."""
        response = self.transport.request(
            "POST",
            self._space_path(space, "subscriptions"),
            json={"event": event, "callback_url": callback_url},
            error_context="List the webhook subscriptions to see whether it was created.",
        )
        return dict(response.json())

    def list_webhook_subscriptions(self, space: str | None = None) -> list[Record]:
        return list(self._get(self._space_path(space, "subscriptions")))

    def delete_webhook_subscription(self, subscription_id: str, space: str | None = None) -> None:
        self.transport.request("DELETE", self._space_path(space, "subscriptions", subscription_id))

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
        token = secret_value(id_token) or self.stored_id_token()
        audience = require(
            client_id or self.client_id,
            "The Cobot OAuth client id (the id token's audience)",
            "COBOT_CLIENT_ID",
        )
        claims = verify_id_token(token, provider=self.openid_provider(space), audience=audience)
        log.info(f"Verified the Cobot id token of subject {claims.get('sub')} (issuer {claims.get('iss')}).")
        return claims
