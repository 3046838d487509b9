"""Keeps credential values out of every log line, error and Robot Framework log.

Secrets are registered by value when a connector is configured. `redact()` replaces each of them
(and well-known credential fields) wherever they appear. A log-record factory applies it to every
record created in the process: filters attached to loggers would miss third-party child loggers,
and requests-oauthlib logs whole token request bodies (client secret, refresh token) at DEBUG.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

MASK = "***"
# Values shorter than this are too likely to appear by chance to be masked everywhere.
_MIN_SECRET_LENGTH = 4

_FIELD_PATTERNS = [
    # key=value pairs in query strings and form bodies
    re.compile(
        r"(?i)\b(access_token|refresh_token|client_secret|id_token|password|token|code_verifier|secret)"
        r"=([^&\s'\",]+)"
    ),
    # "key": "value" in JSON
    re.compile(
        r"(?i)(\"(?:access_token|refresh_token|client_secret|id_token|password|secret|api_key|apiKey)\"\s*:\s*\")"
        r"([^\"]+)"
    ),
    # header lines (see Redactor.header_pattern)
]

_DEFAULT_HEADERS = ("authorization", "proxy-authorization", "cookie", "x-api-key", "x-api-secret")


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._told: set[str] = set()  # given to robocorp.log already
        self._lock = threading.Lock()
        self._ordered: list[str] = []
        self.sensitive_headers: set[str] = set(_DEFAULT_HEADERS)
        self._header_pattern = self._compile_headers()

    def _compile_headers(self) -> re.Pattern[str]:
        names = "|".join(re.escape(name) for name in sorted(self.sensitive_headers))
        return re.compile(rf"(?i)\b({names})(['\"]?\s*[:=]\s*['\"]?)([^'\",\r\n}}]+)")

    def register_header(self, *names: str) -> None:
        """Treat these (vendor-specific) header names as credentials in every log line."""
        with self._lock:
            self.sensitive_headers.update(name.lower() for name in names)
            self._header_pattern = self._compile_headers()

    def register(self, *values: Any) -> None:
        """Remember secret values (plain strings or objects with a ``value``) to mask."""
        with self._lock:
            for value in values:
                text = getattr(value, "value", value)
                if isinstance(text, str) and len(text) >= _MIN_SECRET_LENGTH:
                    self._secrets.add(text)
            # Longest first, so a secret containing another is masked whole.
            self._ordered = sorted(self._secrets, key=len, reverse=True)
            self._tell_robocorp_log()

    def _tell_robocorp_log(self) -> None:
        # robocorp.tasks (a Python robot) traces the calls our code makes into libraries - requests'
        # Session.request with its headers among them - into its own log (output.robolog, log.html), which
        # our log-record redaction never sees. Its own filter hides what it is given, so it is given every
        # secret, also those registered before it was imported (it usually is first, as the runner).
        log_module = sys.modules.get("robocorp.log")
        hide = getattr(log_module, "hide_from_output", None)
        if hide is None:
            return
        for secret in self._secrets - self._told:
            hide(secret)
        self._told |= self._secrets

    def register_many(self, values: Iterable[Any]) -> None:
        self.register(*values)

    def redact(self, text: Any) -> str:
        if not isinstance(text, str):
            text = str(text)
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, MASK)
        if "=" not in text and ":" not in text:
            return text  # every pattern below needs one of them (a request path, most log lines)
        text = _FIELD_PATTERNS[0].sub(lambda m: f"{m.group(1)}={MASK}", text)
        text = _FIELD_PATTERNS[1].sub(lambda m: f"{m.group(1)}{MASK}", text)
        return self._header_pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)

    def redact_headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {k: (MASK if k.lower() in self.sensitive_headers else self.redact(v)) for k, v in headers.items()}


redactor = Redactor()


def signed(url: str) -> str:
    """A pre-signed URL (a storage link) is a bearer credential until it expires: its signature is
    registered, so it stays out of every log; the URL is returned as it is."""
    parts = urlsplit(url)
    redactor.register(parts.query or parts.path.rsplit("/", 1)[-1])
    return url


_installed = False


def install_log_redaction() -> None:
    """Wrap the log-record factory once so that every record's message is redacted."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed third-party record: leave it to logging to report
            return record
        redacted = redactor.redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        return record

    logging.setLogRecordFactory(factory)
