"""Cobot deliveries (API 1 webhook subscriptions) for the receiver.

Cobot POSTs ``{"url": "<resource url>"}`` to the subscription's callback URL and documents no signature and
no event id. So the receiver's Cobot endpoint is ``POST /webhooks/cobot/<token>``: the secret path token
(``COBOT_WEBHOOK_TOKEN`` / ``--cobot-token``, compared in constant time) is the only proof that Cobot sent it;
subscribe with that callback URL. A token the receiver was told to drop (``COBOT_WEBHOOK_DROPPED_TOKENS`` /
``--cobot-drop``) is answered ``410 Gone``, which makes Cobot deactivate that subscription at once, as its
docs describe: rotate a token by subscribing with a new one and dropping the old.

The ``url`` must be an http(s) URL on a Cobot host derived from ``COBOT_URL`` (a space's
``https://<subdomain>.cobot.me``, or ``<COBOT_URL>/spaces/<subdomain>`` elsewhere) or ``COBOT_API_URL``:
anything else is refused with a 400 before it is stored or fetched. When Cobot credentials are configured,
the receiver reads the resource with them (only on those hosts, through the Cobot client) and keeps it in the
work item; a resource that is gone (404, 410: a deleted booking) is kept as ``null``; a Cobot that cannot
answer now (network, 429, 5xx) makes the delivery a 503, so Cobot delivers it again later.

Each acknowledged delivery is stored under a fresh id (the answer carries it) and becomes exactly one work
item ``{"source": "cobot", "id", "event": "cobot.delivery", "data": {"url", "resource"}}``; Cobot sends no
event id, so a delivery repeated by Cobot is a second item naming the same ``url``: consumers are idempotent
on the ``url``.
"""

from __future__ import annotations

import hmac
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from Connectors.core.errors import ConnectorError, NotFound, RateLimited, ServerError, TransportError
from Connectors.core.webhooks import SignatureError
from Connectors.webhooks.receiver import Refused
from Connectors.webhooks.sources import Source

NAME = "cobot"
# The header the receiver's Cobot route puts the path token in (any such header a client sends is replaced).
TOKEN_HEADER = "x-connectors-cobot-path-token"
EVENT = "cobot.delivery"
MAX_URL = 2000
# A path token is a secret in a URL: long and URL-safe, so it survives proxies and cannot be guessed.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,200}$")


def _gone() -> SignatureError:
    """A token the receiver was told to drop: Cobot deactivates the subscription on a 410."""
    return SignatureError("this subscription was dropped", status=410)


def cobot_source(token: str, dropped: Sequence[str] = ()) -> Source:
    """The path token is checked before the body is read; there is no MAC over the body."""
    wanted = token.encode()
    gone = [value.encode() for value in dropped if value]

    def precheck(value: str | None) -> Any:
        given = (value or "").encode()
        # Every comparison runs, so the time taken says nothing about which token came close.
        matches = hmac.compare_digest(given, wanted)
        dropped_match = any([hmac.compare_digest(given, old) for old in gone])
        if dropped_match and not matches:
            raise _gone()
        if not matches:
            raise SignatureError("unknown webhook path")
        return True

    def verify(body: bytes, parsed: Any) -> None:
        return None

    return Source(NAME, TOKEN_HEADER, precheck, verify)


def origin_patterns(cobot_url: str, api_url: str, space_template: str) -> list[re.Pattern[str]]:
    """Where a delivered ``url`` may point: the space hosts (``*`` = one label), Cobot's own and API 2's host."""
    patterns = []
    for base in (space_template.replace("{subdomain}", "*"), cobot_url, api_url):
        parts = urlsplit(base)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        patterns.append(re.compile("^" + re.escape(origin).replace(r"\*", "[a-z0-9-]+") + "$"))
    return patterns


@dataclass
class CobotDeliveries:
    """Checks a Cobot delivery's ``url``, reads the resource when it can, and builds the stored event."""

    patterns: list[re.Pattern[str]]
    # Reads the resource with the configured credentials (None: the work item names the url only).
    fetch: Callable[[str], Any] | None = None
    max_body: int = 1024 * 1024
    stats: dict[str, int] = field(default_factory=lambda: {"resolved": 0, "gone": 0})

    def url_of(self, body: bytes) -> str:
        try:
            delivered = json.loads(body)
        except ValueError:
            raise Refused(400, "the body is not JSON") from None
        url = delivered.get("url") if isinstance(delivered, dict) else None
        if not isinstance(url, str) or not url or len(url) > MAX_URL or not url.isprintable():
            raise Refused(400, 'the body has no "url" of a Cobot resource')
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if parts.scheme not in ("http", "https") or parts.username or parts.password:
            raise Refused(400, "the url is not an http(s) URL")
        if not any(pattern.match(origin) for pattern in self.patterns):
            raise Refused(400, "the url is not on a Cobot host of this receiver (COBOT_URL, COBOT_API_URL)")
        return url

    def event(self, body: bytes) -> bytes:
        """The event to store for a delivery body: a fresh id, the url, and the resource when read."""
        url = self.url_of(body)
        data: dict[str, Any] = {"url": url}
        if self.fetch is not None:
            data["resource"] = self._resource(url)
        stored = {"id": uuid.uuid4().hex, "event": EVENT, "data": data}
        encoded = json.dumps(stored, ensure_ascii=False).encode()
        if len(encoded) > self.max_body:
            # The delivery itself was small: keep it, without the resource (the consumer reads the url).
            data["resource"] = None
            data["resource_omitted"] = "larger than the body limit"
            encoded = json.dumps(stored, ensure_ascii=False).encode()
        return encoded

    def _resource(self, url: str) -> Any:
        assert self.fetch is not None
        try:
            resource = self.fetch(url)
        except NotFound:
            self.stats["gone"] += 1
            return None
        except (TransportError, RateLimited, ServerError):
            raise Refused(503, "Cobot could not be read now; deliver it again later") from None
        except ConnectorError as error:
            if error.status == 410:
                self.stats["gone"] += 1
                return None
            # Credentials or permissions: the delivery is kept (the url names it), the reason logged once.
            raise Refused(503, f"Cobot refused to show the resource (HTTP {error.status})") from None
        self.stats["resolved"] += 1
        return resource


def from_environment(max_body: int) -> CobotDeliveries:
    """The Cobot hosts from ``COBOT_URL`` / ``COBOT_API_URL`` (the client's own rules), and a reader when
    Cobot credentials are configured."""
    from Connectors.core.errors import ConfigurationError
    from Connectors.core.settings import resolve
    from Connectors.vendors.cobot.client import CobotClient, space_url_template
    from Connectors.vendors.cobot.profile import COBOT

    try:
        client: CobotClient | None = CobotClient(api="1")
    except ConfigurationError:
        client = None  # no credentials: check the host, name the url
    # Without credentials only the URLs are read from the settings; the placeholder credential is never used.
    settings = client.settings if client is not None else resolve(COBOT, {"access_token": "unused-placeholder"})
    url = (settings.text("url") or COBOT.default_url).rstrip("/")
    api_url = settings.text("api_url") or "https://api.cobot.me"
    template = space_url_template(url, settings.text("space_url_template"))
    fetch = None
    if client is not None:
        transport = client.transport

        def fetch(resource_url: str) -> Any:
            # The transport's origin check keeps the token on the configured Cobot hosts as well.
            return transport.request_json("GET", resource_url)

    return CobotDeliveries(origin_patterns(url, api_url, template), fetch, max_body)
