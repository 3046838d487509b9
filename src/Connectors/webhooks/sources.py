"""Who may deliver: each source names its signature header and checks it in two steps.

``precheck(header)`` runs before the body is read (missing, malformed or stale headers are refused
without reading a byte of the body); ``verify(body, parsed)`` checks the MAC over the bounded body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from Connectors.core.webhooks import (
    body_matches,
    check_fresh,
    parse_body_signature,
    parse_timestamped,
    timestamped_matches,
)


@dataclass(frozen=True)
class Source:
    name: str
    header: str
    precheck: Callable[[str | None], Any]
    verify: Callable[[bytes, Any], None]


def timestamped_source(name: str, header: str, secret: str, tolerance: float = 300) -> Source:
    """``t=<unix>,v1=<hex>`` signatures over ``"<t>." + body`` (Robaws)."""

    def precheck(value: str | None) -> Any:
        parsed = parse_timestamped(value)
        check_fresh(parsed.timestamp, tolerance)
        return parsed

    def verify(body: bytes, parsed: Any) -> None:
        timestamped_matches(secret, body, parsed)

    return Source(name, header, precheck, verify)


def body_mac_source(name: str, header: str, secret: str) -> Source:
    """A hex HMAC-SHA256 of the raw body, no timestamp (Control Room)."""

    def verify(body: bytes, parsed: Any) -> None:
        body_matches(secret, body, parsed)

    return Source(name, header, parse_body_signature, verify)


def robaws_source(secret: str, tolerance: float = 300) -> Source:
    return timestamped_source("robaws", "robaws-signature", secret, tolerance)


def controlroom_source(secret: str) -> Source:
    """Control Room: ``x-rc-signature``; events ``process_run.started|completed|unresolved`` carry a
    unique ``id`` and are delivered at least once."""
    return body_mac_source("controlroom", "x-rc-signature", secret)
