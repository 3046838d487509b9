"""The one HTTP engine every connector shares.

Nothing in this package knows a vendor's name: vendor modules pass their base URLs, header names,
limits and error parsers in as data.
"""

# The error classes are part of the public API: ``from Connectors.core import UncertainOutcome``.
from Connectors.core.errors import *  # noqa: F403 - errors.__all__ lists them
from Connectors.core.errors import __all__ as _errors
from Connectors.core.redact import install_log_redaction, redactor

# Every log record in the process is redacted from the moment any connector module loads.
install_log_redaction()

__all__ = [*_errors, "redactor"]
