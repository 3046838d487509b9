"""Webhook signatures: HMAC-SHA256 over the raw body, compared in constant time.

Two schemes: a timestamped header ``t=<unix>,v1=<hex>`` whose MAC covers ``"<t>." + body``, and a
plain hex MAC of the body. Parsing is split from checking the MAC so that a receiver can refuse a
malformed, missing or stale header before it reads the body at all.

Messages are fixed sentences: they never quote the header or the body, which an attacker chooses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import string
import time
from dataclasses import dataclass
from typing import Any

from Connectors.core.errors import AuthenticationError

MAX_HEADER_LENGTH = 2048
MAX_SIGNATURES = 8  # v1 parts in one header: several during a secret rotation, never hundreds
_HEX = frozenset(string.hexdigits)
_PRINTABLE = frozenset(string.printable) - frozenset("\t\n\r\x0b\x0c")


class SignatureError(AuthenticationError):
    """The delivery is not signed with this endpoint's secret (missing, wrong or stale signature)."""

    default_hint = "Reject the delivery: it was not signed with this endpoint's secret."


class MalformedSignature(SignatureError):
    """The signature header is present but cannot be parsed: a client error rather than a forgery."""

    default_hint = "Reject the delivery: its signature header is malformed."


@dataclass(frozen=True)
class TimestampedSignature:
    timestamp: int
    signatures: tuple[bytes, ...]


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def _hex_digest(value: str) -> bytes:
    """A 64-character hex SHA-256 digest, lower-cased, as bytes; anything else is malformed."""
    if len(value) != 64 or not set(value) <= _HEX:
        raise MalformedSignature("The signature is not a 64-character hex SHA-256 digest.")
    return value.lower().encode("ascii")


def _checked_header(header: str | bytes | None) -> str:
    if header is None or header == "" or header == b"":
        raise SignatureError("The webhook delivery has no signature header.")
    if isinstance(header, bytes):
        try:
            header = header.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedSignature("The signature header is not printable ASCII.")
    if len(header) > MAX_HEADER_LENGTH:
        raise MalformedSignature("The signature header is too long.")
    if not set(header) <= _PRINTABLE:
        raise MalformedSignature("The signature header is not printable ASCII.")
    return header.strip()


def sign_timestamped(secret: str, body: str | bytes, timestamp: int | None = None, scheme: str = "v1") -> str:
    """Header value ``t=<unix>,v1=<hex>`` where the MAC covers ``"<t>." + body``."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},{scheme}={_timestamped_mac(secret, body, timestamp).decode('ascii')}"


def _timestamped_mac(secret: str, body: str | bytes, timestamp: int) -> bytes:
    signed = str(timestamp).encode("ascii") + b"." + _as_bytes(body)
    return hmac.new(_as_bytes(secret), signed, hashlib.sha256).hexdigest().encode("ascii")


def parse_timestamped(header: str | bytes | None, scheme: str = "v1") -> TimestampedSignature:
    """Parse ``t=…,v1=…``; other parts are ignored, several ``v1`` parts (secret rotation) are kept.

    Raises ``SignatureError`` for a missing header and ``MalformedSignature`` for one that is not
    printable ASCII, repeats ``t``, has a non-numeric time, or lacks ``t`` or a hex ``v1`` digest.
    """
    text = _checked_header(header)
    timestamp: int | None = None
    signatures: list[bytes] = []
    for part in text.split(","):
        name, equals, value = part.strip().partition("=")
        if not equals:
            raise MalformedSignature("The signature header has a part without '='.")
        if name == "t":
            if timestamp is not None:
                raise MalformedSignature("The signature header repeats the t part.")
            if not value.isdigit() or len(value) > 12:
                raise MalformedSignature("The signature header has a malformed timestamp.")
            timestamp = int(value)
        elif name == scheme:
            # A candidate that is not a hex digest can never match: it is skipped like an unknown part.
            if len(value) == 64 and set(value) <= _HEX:
                signatures.append(value.lower().encode("ascii"))
            if len(signatures) > MAX_SIGNATURES:
                raise MalformedSignature(f"The signature header has more than {MAX_SIGNATURES} {scheme} parts.")
    if timestamp is None or not signatures:
        raise MalformedSignature(f"The signature header lacks the t or {scheme} part.")
    return TimestampedSignature(timestamp, tuple(signatures))


def check_fresh(timestamp: int, tolerance: float = 300, now: float | None = None) -> None:
    """Refuse a signature time further than ``tolerance`` seconds from now (a replay, or skewed clocks)."""
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        raise SignatureError(
            f"The webhook signature time is beyond the {tolerance:.0f} s tolerance.",
            hint="Reject it as a possible replay (or check the clocks of sender and receiver).",
        )


def timestamped_matches(secret: str, body: str | bytes, signature: TimestampedSignature) -> None:
    """Check the MAC of a parsed ``t=…,v1=…`` header; every candidate is compared in constant time."""
    expected = _timestamped_mac(secret, body, signature.timestamp)
    # No short-circuit: the time taken does not reveal which candidate matched.
    matched = False
    for candidate in signature.signatures:
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("The webhook signature does not match the body.")


def verify_timestamped(
    secret: str,
    body: str | bytes,
    header: str | bytes | None,
    *,
    tolerance: float = 300,
    now: float | None = None,
    scheme: str = "v1",
) -> int:
    """Check a ``t=…,v1=…`` signature header; return its timestamp or raise ``SignatureError``."""
    signature = parse_timestamped(header, scheme)
    check_fresh(signature.timestamp, tolerance, now)
    timestamped_matches(secret, body, signature)
    return signature.timestamp


def sign_body(secret: str, body: str | bytes) -> str:
    """Hex HMAC-SHA256 of the raw body (schemes without a timestamp)."""
    return hmac.new(_as_bytes(secret), _as_bytes(body), hashlib.sha256).hexdigest()


def parse_body_signature(header: str | bytes | None) -> bytes:
    """The hex MAC of a plain body signature (an optional ``sha256=`` prefix is accepted)."""
    text = _checked_header(header)
    if text[:7].lower() == "sha256=":
        text = text[7:]
    return _hex_digest(text)


def body_matches(secret: str, body: str | bytes, signature: bytes) -> None:
    if not hmac.compare_digest(sign_body(secret, body).encode("ascii"), signature):
        raise SignatureError("The webhook signature does not match the body.")


def verify_body(secret: str, body: str | bytes, signature: str | bytes | None) -> None:
    body_matches(secret, body, parse_body_signature(signature))


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
