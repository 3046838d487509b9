"""One place that writes log lines, to Robot Framework's log when a robot runs, else to ``logging``.

Every line passes the redactor first.
"""

from __future__ import annotations

import logging
from typing import Any

from Connectors.core.redact import install_log_redaction, redactor

_logger = logging.getLogger("Connectors")
install_log_redaction()
# Robot Framework's execution contexts, imported on the first line written (False: not installed).
_contexts: Any = None


def in_robot() -> bool:
    """Whether a Robot Framework run is executing (its logger then takes the lines)."""
    global _contexts
    if _contexts is None:
        try:
            from robot.running.context import EXECUTION_CONTEXTS
        except ImportError:
            _contexts = False
        else:
            _contexts = EXECUTION_CONTEXTS
    return bool(_contexts) and _contexts.current is not None


def debugging() -> bool:
    """Whether a debug line can be written anywhere, so a hot path can skip building it."""
    # Robot Framework filters by its own log level, which can change at any keyword.
    return in_robot() or _logger.isEnabledFor(logging.DEBUG)


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING}


def _write(level: str, message: str) -> None:
    text = redactor.redact(message)
    if in_robot():
        from robot.api import logger

        getattr(logger, level)(text)
    else:
        _logger.log(_LEVELS[level], text)


def info(message: str) -> None:
    _write("info", message)


def debug(message: str) -> None:
    _write("debug", message)


def warn(message: str) -> None:
    """A warning: in Robot Framework's log and console, else ``logging`` at WARNING."""
    _write("warn", message)
