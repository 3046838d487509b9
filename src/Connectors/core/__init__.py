"""The one HTTP engine every connector shares.

Nothing in this package knows a vendor's name: vendor modules pass their base URLs, header names,
limits and error parsers in as data.
"""

from Connectors.core.errors import (
    AuthenticationError,
    ConfigurationError,
    Conflict,
    ConnectorError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    TransportError,
    UncertainOutcome,
    ValidationError,
)
from Connectors.core.redact import install_log_redaction, redactor

# Every log record in the process is redacted from the moment any connector module loads.
install_log_redaction()

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
    "ValidationError",
    "redactor",
]
