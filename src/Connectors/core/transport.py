"""The HTTP engine: throttle → auth → HTTP → retry → typed result or one clear error.

Vendor clients describe their API as data (base URL, auth, limits, header names, how to read an
error body) and call ``request()``; they never touch ``requests`` themselves.
"""

from __future__ import annotations

import json as jsonlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout, ReadTimeout, RequestException

from Connectors import __version__
from Connectors.core import log
from Connectors.core.auth import Auth
from Connectors.core.errors import (
    AuthenticationError,
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
from Connectors.core.redact import redactor
from Connectors.core.retry import IDEMPOTENT_METHODS, RetryPolicy
from Connectors.core.throttle import Throttle

USER_AGENT = f"robotframework-connectors/{__version__} (+https://pypi.org/project/robotframework-connectors/)"

_ERROR_CLASSES: dict[int, type[ConnectorError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    405: ValidationError,
    409: Conflict,
    410: NotFound,
    413: ValidationError,
    415: ValidationError,
    422: ValidationError,
    429: RateLimited,
}


def default_error_message(response: requests.Response) -> str:
    """The vendor's message from a JSON error body (common field names), else the body's text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    if isinstance(body, dict):
        for name in ("message", "detail", "error_description", "error", "title"):
            value = body.get(name)
            if isinstance(value, str) and value:
                return value
        errors = body.get("errors")
        if errors:
            return jsonlib.dumps(errors)[:300]
    return jsonlib.dumps(body)[:300]


@dataclass
class TransportConfig:
    vendor: str
    base_url: str
    auth: Auth = field(default_factory=Auth)
    throttle: Throttle | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    idempotency_header: str | None = None
    default_headers: Mapping[str, str] = field(default_factory=dict)
    error_message: Callable[[requests.Response], str] = default_error_message
    # Status → the sentence that tells a user what to do, specific to the vendor.
    hints: Mapping[int, str] = field(default_factory=dict)


class Transport:
    def __init__(self, config: TransportConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(config.default_headers)
        self.stats = {"requests": 0, "retries": 0, "throttle_wait_seconds": 0.0}

    @property
    def vendor(self) -> str:
        return self.config.vendor

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.config.base_url.rstrip("/") + "/" + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        idempotent: bool | None = None,
        quota_scope: str = "",
        timeout: tuple[float, float] | None = None,
        authenticate: bool = True,
        throttle: bool = True,
        error_context: str = "",
    ) -> requests.Response:
        """Send one logical request, retrying where that is safe, and return the 2xx/3xx response.

        ``idempotent`` overrides the HTTP method's own semantics (a vendor whose PUT creates passes
        False). A non-idempotent request is repeated after a failure only when it carries an
        idempotency key, which is then the same on every attempt.
        """
        method = method.upper()
        cfg = self.config
        send_headers: dict[str, str] = dict(headers or {})
        if cfg.idempotency_header and method in ("POST", "PUT", "PATCH"):
            idempotency_key = idempotency_key or str(uuid.uuid4())
            send_headers[cfg.idempotency_header] = idempotency_key
        else:
            idempotency_key = None
        can_repeat = (method in IDEMPOTENT_METHODS if idempotent is None else idempotent) or bool(idempotency_key)
        body_bytes = None
        if json is not None:
            body_bytes = jsonlib.dumps(json).encode()
            send_headers.setdefault("Content-Type", "application/json")
        url = self.url(path)
        display_path = _display_path(path)
        refreshed_auth = False
        attempt = 0
        while True:
            attempt += 1
            if throttle and cfg.throttle:
                waited = cfg.throttle.acquire(method, display_path, quota_scope)
                self.stats["throttle_wait_seconds"] += waited
            attempt_headers = dict(send_headers)
            if authenticate:
                cfg.auth.apply(attempt_headers)
            log.debug(f"{cfg.vendor} → {method} {display_path}" + (f" (attempt {attempt})" if attempt > 1 else ""))
            self.stats["requests"] += 1
            started = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=body_bytes if body_bytes is not None else data,
                    files=files,
                    headers=attempt_headers,
                    timeout=timeout or (cfg.connect_timeout, cfg.read_timeout),
                    allow_redirects=False,
                )
            except RequestException as error:
                reason = _describe_network_error(error)
                never_sent = isinstance(error, ConnectTimeout) or _is_connect_failure(error)
                if (can_repeat or never_sent) and attempt < cfg.retry.max_attempts:
                    self._pause_before_retry(attempt, None, f"{reason}", method, display_path)
                    continue
                if not can_repeat and not never_sent:
                    raise UncertainOutcome(
                        f"{reason}; the request was sent but no answer came back.",
                        vendor=cfg.vendor,
                        method=method,
                        path=display_path,
                        hint=error_context or UncertainOutcome.default_hint,
                    )
                raise TransportError(
                    f"{reason} (after {attempt} attempt{'s' if attempt > 1 else ''}).",
                    vendor=cfg.vendor,
                    method=method,
                    path=display_path,
                )
            elapsed = time.monotonic() - started
            if cfg.throttle:
                cfg.throttle.observe(response.headers, quota_scope)
            log.debug(f"{cfg.vendor} ← {response.status_code} {method} {display_path} in {elapsed * 1000:.0f} ms")
            status = response.status_code
            if status == 401 and authenticate and not refreshed_auth and cfg.auth.on_unauthorized():
                refreshed_auth = True
                continue
            if cfg.retry.status_is_retryable(status, can_repeat=can_repeat):
                retry_after = cfg.throttle.retry_after(response.headers) if cfg.throttle else _retry_after(response)
                if status == 429 and retry_after is None:
                    retry_after = 1.0  # the vendors' advice: pause a second and retry
                too_long = retry_after is not None and retry_after > cfg.retry.max_retry_after
                if attempt < cfg.retry.max_attempts and not too_long:
                    self._pause_before_retry(attempt, retry_after, f"HTTP {status}", method, display_path)
                    continue
            if status >= 400:
                raise self.error_for(response, method, display_path, attempt, can_repeat)
            return response

    def _pause_before_retry(self, attempt: int, retry_after: float | None, reason: str, method: str, path: str) -> None:
        delay = self.config.retry.delay(attempt, retry_after)
        self.stats["retries"] += 1
        log.info(
            f"{self.vendor} {method} {path}: {reason}; retrying in {delay:.2f} s "
            f"(attempt {attempt + 1} of {self.config.retry.max_attempts})."
        )
        time.sleep(delay)

    def error_for(
        self, response: requests.Response, method: str, path: str, attempts: int = 1, can_repeat: bool = True
    ) -> ConnectorError:
        status = response.status_code
        vendor_message = redactor.redact(self.config.error_message(response) or response.reason or "")
        cls = _ERROR_CLASSES.get(status) or (ServerError if status >= 500 else ConnectorError)
        hint = self.config.hints.get(status)
        message = vendor_message or response.reason or "request failed"
        if status >= 500:
            tried = f" after {attempts} attempts" if attempts > 1 else ""
            message = f"the server failed{tried}: {message}"
            if not can_repeat:
                hint = hint or (
                    "The request was not repeated because it is not idempotent; check whether "
                    "it was applied before sending it again."
                )
        kwargs: dict[str, Any] = {
            "vendor": self.vendor,
            "method": method,
            "path": path,
            "status": status,
            "vendor_message": vendor_message,
            "hint": hint,
            "details": _json_or_none(response),
        }
        if cls is RateLimited:
            return RateLimited(message, retry_after=_retry_after(response), **kwargs)
        return cls(message, **kwargs)

    def close(self) -> None:
        self.session.close()


def _display_path(path: str) -> str:
    # Query strings can carry tokens (e.g. ?token=…); errors and logs show the path alone.
    return redactor.redact(path.split("?", 1)[0])


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _is_connect_failure(error: RequestException) -> bool:
    text = repr(error)
    return "NewConnectionError" in text or "Connection refused" in text or "NameResolutionError" in text


def _describe_network_error(error: RequestException) -> str:
    if isinstance(error, ConnectTimeout):
        return "connecting timed out"
    if isinstance(error, ReadTimeout):
        return "the server did not answer in time"
    if isinstance(error, RequestsConnectionError):
        if _is_connect_failure(error):
            return "could not connect"
        return "the connection was dropped"
    return f"request failed ({type(error).__name__})"
