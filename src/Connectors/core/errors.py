"""One exception hierarchy for every connector.

Every error carries the vendor, method, path, status and the vendor's own message, and renders as
one readable line that says what happened and what to do. Messages pass through the redactor, so a
credential that a server echoes back never reaches a log.
"""

from __future__ import annotations

from Connectors.core.redact import redactor


class ConnectorError(Exception):
    """Base class of every error raised by the connectors."""

    # Robot Framework shows the message alone, without the class name in front.
    ROBOT_SUPPRESS_NAME = True
    default_hint = ""

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


class ConfigurationError(ConnectorError):
    """A setting is missing or malformed before any request is sent."""


class AuthenticationError(ConnectorError):
    default_hint = "Check the credentials (or the token store) configured for this connector."


class PermissionDenied(ConnectorError):
    default_hint = "The credentials are valid but lack a permission or scope for this call."


class NotFound(ConnectorError):
    default_hint = "Check the name or id in the request."


class ValidationError(ConnectorError):
    default_hint = "Fix the request data and try again."


class Conflict(ConnectorError):
    default_hint = "It conflicts with the current state of the resource: check that state before retrying."


class RateLimited(ConnectorError):
    default_hint = "Lower the request rate or wait for the quota to reset."

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class ServerError(ConnectorError):
    default_hint = "The vendor had a problem; it was retried where that is safe. Try again later."


class TransportError(ConnectorError):
    default_hint = "Check the URL and the network connection."


class UncertainOutcome(TransportError):
    """A request that is not safe to repeat may or may not have been applied."""

    default_hint = "The server may or may not have applied it: check before you send it again."
