"""Webhook signatures: HMAC-SHA256 over the raw body, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from Connectors.core.errors import AuthenticationError, ValidationError


class SignatureError(AuthenticationError):
    default_hint = "Reject the delivery: it was not signed with this endpoint's secret."


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def sign_timestamped(secret: str, body: str | bytes, timestamp: int | None = None, scheme: str = "v1") -> str:
    """Header value ``t=<unix>,v1=<hex>`` where the MAC covers ``"<t>." + body``."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    signed = _as_bytes(str(timestamp)) + b"." + _as_bytes(body)
    digest = hmac.new(_as_bytes(secret), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},{scheme}={digest}"


def verify_timestamped(
    secret: str,
    body: str | bytes,
    header: str | None,
    *,
    tolerance: float = 300,
    now: float | None = None,
    scheme: str = "v1",
) -> int:
    """Check a ``t=…,v1=…`` signature header; return its timestamp or raise ``SignatureError``.

    Parts other than ``t`` and ``v1`` are ignored; several ``v1`` parts (during secret rotation)
    pass when any one matches.
    """
    if not header:
        raise SignatureError("The webhook delivery has no signature header.")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise ValidationError(f"The signature header has a malformed timestamp {value!r}.")
        elif name == scheme:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError(f"The signature header lacks the t or {scheme} part.")
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        raise SignatureError(
            f"The webhook signature is {abs(current - timestamp):.0f} s old, beyond the {tolerance:.0f} s tolerance.",
            hint="Reject it as a possible replay (or check the clocks of sender and receiver).",
        )
    expected = sign_timestamped(secret, body, timestamp, scheme).split(f"{scheme}=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("The webhook signature does not match the body.")
    return timestamp


def sign_body(secret: str, body: str | bytes) -> str:
    """Hex HMAC-SHA256 of the raw body (schemes without a timestamp)."""
    return hmac.new(_as_bytes(secret), _as_bytes(body), hashlib.sha256).hexdigest()


def verify_body(secret: str, body: str | bytes, signature: str | None) -> None:
    if not signature:
        raise SignatureError("The webhook delivery has no signature header.")
    given = signature.strip()
    if given.lower().startswith("sha256="):
        given = given[7:]
    if not hmac.compare_digest(sign_body(secret, body), given.lower()):
        raise SignatureError("The webhook signature does not match the body.")


def event_of(body: str | bytes) -> dict[str, Any]:
    """The event a verified body carries: its JSON object, or ``{"body": …}`` when it is not one."""
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    return (
        event
        if isinstance(event, dict)
        else {"body": body if isinstance(body, str) else body.decode("utf-8", "replace")}
    )
