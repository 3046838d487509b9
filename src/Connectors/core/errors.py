"""One exception hierarchy for every connector.

Every error carries the vendor, method, path, status and the vendor's own message, and renders as
one readable line that says what happened and what to do. Messages pass through the redactor, so a
credential that a server echoes back never reaches a log.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from Connectors.core.redact import redactor

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "Conflict",
    "ConnectorError",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "TransportError",
    "UncertainOutcome",
    "UnexpectedResponse",
    "ValidationError",
    "error_class",
]

E = TypeVar("E", bound="ConnectorError")
_BY_STATUS: dict[int, type[ConnectorError]] = {}


class ConnectorError(Exception):
    """Base class of every error raised by the connectors."""

    # Robot Framework shows the message alone, without the class name in front.
    ROBOT_SUPPRESS_NAME = True
    default_hint = ""

    def __init_subclass__(cls, statuses: tuple[int, ...] = (), **kwargs: Any) -> None:
        # An error class names the HTTP statuses it stands for where it is declared; error_class reads them.
        super().__init_subclass__(**kwargs)
        for status in statuses:
            _BY_STATUS[status] = cls

    def __init__(
        self,
        message: str,
        *,
        vendor: str = "",
        method: str = "",
        path: str = "",
        status: int | None = None,
        vendor_message: str = "",
        hint: str | None = None,
        details: object = None,
    ) -> None:
        self.vendor = vendor
        self.method = method
        self.path = path
        self.status = status
        self.vendor_message = redactor.redact(vendor_message)
        self.hint = self.default_hint if hint is None else hint
        self.details = details
        self.message = redactor.redact(message)
        super().__init__(self._render())

    def _render(self) -> str:
        where = " ".join(part for part in (self.vendor, self.method, self.path) if part)
        head = f"{where}: " if where else ""
        status = f"HTTP {self.status}: " if self.status is not None else ""
        text = f"{head}{status}{self.message}"
        if self.vendor_message and self.vendor_message not in self.message:
            text += f" (vendor says: {self.vendor_message})"
        if self.hint:
            text = text.rstrip()
            text += ("" if text.endswith((".", "!", "?", ":")) else ".") + f" {self.hint}"
        # One line, whatever the vendor sent.
        return redactor.redact(" ".join(text.split()))

    def __str__(self) -> str:
        return self._render()

    def replace(self: E, *, message: str | None = None, hint: str | None = None, **fields: Any) -> E:
        """The same error (same class, vendor, method, path, status, vendor message) with a new message,
        hint or other field: a client adds what it knows without rebuilding the error field by field."""
        changed = copy.copy(self)
        if message is not None:
            changed.message = redactor.redact(message)
        if hint is not None:
            changed.hint = hint
        for name, value in fields.items():
            if not hasattr(changed, name):
                raise AttributeError(f"{type(self).__name__} has no field {name!r}")
            setattr(changed, name, value)
        changed.args = (changed._render(),)
        return changed


class ConfigurationError(ConnectorError):
    """A setting is missing or malformed before any request is sent."""


class AuthenticationError(ConnectorError, statuses=(401,)):
    """The vendor did not accept the credentials (HTTP 401), even after a token refresh."""

    default_hint = "Check the credentials (or the token store) configured for this connector."


class PermissionDenied(ConnectorError, statuses=(403,)):
    default_hint = "The credentials are valid but lack a permission or scope for this call."


class NotFound(ConnectorError, statuses=(404, 410)):
    default_hint = "Check the name or id in the request."


class ValidationError(ConnectorError, statuses=(400, 405, 413, 415, 422)):
    """The vendor refused the request's data or form; also raised before sending data it would refuse."""

    default_hint = "Fix the request data and try again."


class Conflict(ConnectorError, statuses=(409,)):
    default_hint = "It conflicts with the current state of the resource: check that state before retrying."


class ServerError(ConnectorError):
    """HTTP 5xx: the vendor failed; idempotent requests were retried first."""

    default_hint = "The vendor had a problem; it was retried where that is safe. Try again later."


class TransportError(ConnectorError):
    default_hint = "Check the URL and the network connection."


class RateLimited(ConnectorError, statuses=(429,)):
    """HTTP 429 after the retries the server's ``Retry-After`` allowed, or a spent daily quota."""

    default_hint = "Lower the request rate or wait for the quota to reset."

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class UnexpectedResponse(ConnectorError):
    """A success status with a body the API never sends (HTML instead of JSON, say)."""

    default_hint = "Check the URL setting: it should point at the vendor's API."


class UncertainOutcome(TransportError):
    """A write that may or may not have been applied: the answer was lost, or retries ran out.

    Carries what a caller needs to repeat it safely: the idempotency key the server replays on
    (``idempotency_key``), or what identifies the object to look for (``reference``, e.g. a run id
    or a business key) and when the attempt started (``started_at``, Unix time).
    """

    default_hint = "Check whether it was applied before you send it again."

    def __init__(
        self,
        message: str,
        *,
        idempotency_key: str | None = None,
        reference: str | None = None,
        started_at: float | None = None,
        **kwargs: Any,
    ) -> None:
        self.idempotency_key = idempotency_key
        self.reference = reference
        self.started_at = started_at
        super().__init__(message, **kwargs)


def error_class(status: int) -> type[ConnectorError]:
    """The error an HTTP status stands for."""
    return _BY_STATUS.get(status) or (ServerError if status >= 500 else ConnectorError)
