"""The HTTP engine: throttle → auth → HTTP → retry → typed result or one clear error.

Vendor clients describe their API as data (base URL, auth, limits, header names, the shape of an
error body, hints) and call ``request()`` / ``request_json()``; they never touch ``requests``.
"""

from __future__ import annotations

import hashlib
import json as jsonlib
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout, ReadTimeout, RequestException

from Connectors import __version__
from Connectors.core import log, progress
from Connectors.core.auth import Auth
from Connectors.core.error_format import ErrorFormat
from Connectors.core.errors import (
    ConnectorError,
    RateLimited,
    TransportError,
    UncertainOutcome,
    UnexpectedResponse,
    ValidationError,
    error_class,
)
from Connectors.core.redact import redactor
from Connectors.core.repeats import PendingWrite, fingerprint, journal
from Connectors.core.retry import IDEMPOTENT_METHODS, RetryPolicy
from Connectors.core.throttle import Throttle

USER_AGENT = f"robotframework-connectors/{__version__} (+https://pypi.org/project/robotframework-connectors/)"
# Answers that settle nothing about an earlier attempt: still in progress (409), refused for load (429).
UNSETTLED_STATUSES = frozenset({409, 429})
# Methods an idempotency header applies to (vendors ignore it on the others).
KEYED_METHODS = frozenset({"POST", "PUT", "PATCH"})


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
    max_idempotency_key: int = 128
    default_headers: Mapping[str, str] = field(default_factory=dict)
    error_format: ErrorFormat = field(default_factory=ErrorFormat)
    # Status → the sentence that tells a user what to do, from the profile (``connection.hints_for``); a call
    # with context of its own rebuilds the error it catches with ``error.replace(hint=…)``.
    hints: Mapping[int, str] = field(default_factory=dict)
    # How the user set the URL and to what ("ROBAWS_URL, now http://…"), named when the URL seems wrong.
    url_setting: str = "the URL setting"
    # Origins (scheme://host[:port]) besides the base URL's that may receive the credentials.
    trusted_origins: tuple[str, ...] = ()


class Transport:
    def __init__(self, config: TransportConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or requests.Session()
        # The auth sets the headers itself; an auth here keeps requests from looking up ~/.netrc on every
        # request (its entry for the host would replace the vendor's credentials).
        self.session.auth = _keep_headers
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(config.default_headers)
        self.stats = {"requests": 0, "retries": 0, "throttle_wait_seconds": 0.0}
        self._timeout = (config.connect_timeout, config.read_timeout)
        self._origins = {_origin(config.base_url), *(_origin(o) for o in config.trusted_origins)}
        # "*" in a trusted origin stands for one host label (a Cobot space: https://*.cobot.me).
        self._origin_patterns = [
            re.compile("^" + re.escape(origin).replace(r"\*", "[a-z0-9-]+") + "$") for origin in self._origins
        ]

    @property
    def vendor(self) -> str:
        return self.config.vendor

    def url(self, path: str, *, authenticate: bool = True) -> str:
        """The URL of ``path``; an absolute URL must stay on a configured origin when it gets credentials."""
        if path.startswith(("http://", "https://")):
            if authenticate and not any(pattern.match(_origin(path)) for pattern in self._origin_patterns):
                raise ValidationError(
                    f"Refusing to send {self.vendor} credentials to {_origin(path)}.",
                    vendor=self.vendor,
                    hint=f"Only {', '.join(sorted(self._origins))} was configured ({self.config.url_setting}).",
                )
            return path
        relative = path.split("?", 1)[0]
        if any(part in (".", "..") for part in relative.split("/")):
            # Clients encode every id (core.paths); a raw dot segment here is a bug, never sent.
            raise ValidationError(f"Refusing a path with a dot segment: {_display_path(path)}.", vendor=self.vendor)
        return self.config.base_url.rstrip("/") + "/" + path.lstrip("/")

    def write_id(self, method: str, path: str, body: Any = None) -> str:
        """The fingerprint of a logical write: same vendor, server, credential, method, path and body."""
        cfg = self.config
        return fingerprint(cfg.vendor, cfg.base_url, cfg.auth.identity, method.upper(), path.split("?", 1)[0], body)

    def pending_write(self, method: str, path: str, body: Any = None) -> PendingWrite | None:
        """The earlier attempt of this same write whose outcome is unknown, if any (see ``core.repeats``)."""
        return journal.pending(self.write_id(method, path, body))

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
        idempotency key, which is then the same on every attempt - and on a later repeat of the same
        write after this one failed (``core.repeats``). ``error_context`` is the hint of an uncertain write.
        """
        method = method.upper()
        cfg = self.config
        url = self.url(path, authenticate=authenticate)
        display_path = _display_path(path)
        repeatable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        # Only writes that are not idempotent by nature are journalled (core.repeats).
        write = (
            self.write_id(method, path, _body_digest(json, data, files)) if not repeatable and authenticate else None
        )
        send_headers: dict[str, str] = dict(headers or {})
        if cfg.idempotency_header and method in KEYED_METHODS:
            idempotency_key = self._idempotency_key(idempotency_key, write)
            send_headers[cfg.idempotency_header] = idempotency_key
        else:
            idempotency_key = None
        can_repeat = repeatable or bool(idempotency_key)
        body_bytes = None
        if json is not None:
            body_bytes = jsonlib.dumps(json).encode()
            send_headers.setdefault("Content-Type", "application/json")
        attempt = 0
        connect_failures = 0
        started = time.time()
        clock = time.monotonic()
        # Set once an attempt may have reached the server's application (then a write may exist). A repeat
        # of a write whose earlier outcome is unknown starts that way: only a success settles it.
        maybe_applied = write is not None and journal.pending(write) is not None
        refreshed_auth = False
        debugging = log.debugging()
        while True:
            attempt += 1
            if throttle and cfg.throttle:
                self.stats["throttle_wait_seconds"] += cfg.throttle.acquire(method, display_path, quota_scope)
            attempt_headers = dict(send_headers)
            if authenticate:
                cfg.auth.apply(attempt_headers)
            if debugging:
                log.debug(f"{cfg.vendor} → {method} {display_path}" + (f" (attempt {attempt})" if attempt > 1 else ""))
            self.stats["requests"] += 1
            sent = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=body_bytes if body_bytes is not None else data,
                    files=files,
                    headers=attempt_headers,
                    timeout=timeout or self._timeout,
                    allow_redirects=False,
                )
            except RequestException as error:
                reason = _describe_network_error(error)
                never_sent = isinstance(error, ConnectTimeout) or _is_connect_failure(error)
                if never_sent:
                    connect_failures += 1
                    if connect_failures < cfg.retry.connect_attempts:
                        self._pause_before_retry(attempt, None, reason, method, display_path)
                        continue
                    unreachable = self._unreachable(reason, method, display_path, attempt, clock, url)
                    if write and maybe_applied:
                        # An earlier attempt may have got through: the write may exist although this one never left.
                        raise self._uncertain(unreachable, idempotency_key, write, started, error_context) from None
                    if write:
                        journal.forget(write)  # never sent: nothing can exist
                    raise unreachable from None
                maybe_applied = True
                if can_repeat and attempt < cfg.retry.max_attempts:
                    self._pause_before_retry(attempt, None, reason, method, display_path)
                    continue
                raise self._failed_write_or_network(
                    reason,
                    method,
                    display_path,
                    attempt,
                    clock,
                    can_repeat,
                    idempotency_key,
                    write,
                    started,
                    error_context,
                ) from None
            if debugging:
                took = (time.monotonic() - sent) * 1000
                log.debug(f"{cfg.vendor} ← {response.status_code} {method} {display_path} in {took:.0f} ms")
            if cfg.throttle:
                cfg.throttle.observe(response.headers, quota_scope)
            status = response.status_code
            if status == 401 and authenticate and not refreshed_auth and cfg.auth.on_unauthorized():
                refreshed_auth = True
                continue
            if status >= 500 and status not in cfg.retry.refused_statuses:
                maybe_applied = True
            if cfg.retry.status_is_retryable(status, can_repeat=can_repeat):
                retry_after = cfg.throttle.retry_after(response.headers) if cfg.throttle else _retry_after(response)
                if status == 429 and retry_after is None:
                    retry_after = 1.0  # the vendors' advice: pause a second and retry
                too_long = retry_after is not None and retry_after > cfg.retry.max_retry_after
                if attempt < cfg.retry.max_attempts and not too_long:
                    self._pause_before_retry(attempt, retry_after, f"HTTP {status}", method, display_path)
                    continue
            if status >= 400:
                failure = self.error_for(response, method, display_path, attempt, can_repeat)
                # A request refused on its merits (a 4xx other than "busy") is a definite answer for this
                # attempt; an earlier attempt's unknown outcome stays remembered.
                definite = status < 500 and status not in UNSETTLED_STATUSES
                if write and maybe_applied and not definite:
                    raise self._uncertain(failure, idempotency_key, write, started, error_context) from None
                if write and not maybe_applied:
                    journal.forget(write)
                raise failure
            if write:
                journal.forget(write)
            return response

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """``request()`` and the decoded JSON answer (``None`` for an empty one), or one clear line."""
        return self.decode(self.request(method, path, **kwargs), method, path)

    def decode(self, response: requests.Response, method: str, path: str) -> Any:
        """The JSON of a success answer (``None`` when empty), or one line saying what came instead."""
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
            raise UnexpectedResponse(
                f"answered {response.status_code} with {kind} instead of JSON.",
                vendor=self.vendor,
                method=method.upper(),
                path=_display_path(path),
                status=response.status_code,
                hint=f"Check {self.config.url_setting}: it should point at the {self.vendor} API.",
            ) from None

    def _idempotency_key(self, given: str | None, write: str | None) -> str:
        if given not in (None, ""):
            return self._check_key(str(given))
        pending = journal.pending(write) if write else None
        if pending and pending.idempotency_key:
            log.info(
                f"{self.vendor}: repeating a write whose outcome was unknown; reusing its idempotency key "
                f"{pending.idempotency_key}, so the server answers with the first result instead of writing twice."
            )
            return pending.idempotency_key
        return str(uuid.uuid4())

    def _check_key(self, key: str) -> str:
        limit = self.config.max_idempotency_key
        if len(key) > limit or not key.isascii() or not key.isprintable():
            problem = f"has {len(key)} characters" if len(key) > limit else "is not printable ASCII"
            raise ValidationError(
                f"The idempotency key {problem}; {self.vendor} takes at most {limit} printable ASCII characters.",
                vendor=self.vendor,
                hint=f"Derive a short stable key from business keys (Make {self.vendor} Idempotency Key).",
            )
        return key

    def _pause_before_retry(self, attempt: int, retry_after: float | None, reason: str, method: str, path: str) -> None:
        delay = self.config.retry.delay(attempt, retry_after)
        self.stats["retries"] += 1
        log.info(
            f"{self.vendor} {method} {path}: {reason}; retrying in {delay:.2f} s "
            f"(attempt {attempt + 1} of {self.config.retry.max_attempts})."
        )
        progress.pause(delay, f"{self.vendor} {method} {path}: {reason}", key=f"retry:{self.vendor}")
        time.sleep(delay)

    def _unreachable(
        self, reason: str, method: str, path: str, attempts: int, clock: float, url: str
    ) -> TransportError:
        seconds = time.monotonic() - clock
        return TransportError(
            f"{reason} to {_origin(url)} ({_attempts(attempts)} over {seconds:.1f} s).",
            vendor=self.vendor,
            method=method,
            path=path,
            hint=f"Check {self.config.url_setting} and that the server is running and reachable"
            + (
                " (for the offline sandbox, start it first: 'connectors sandbox --demo' or 'rcc run --dev -t Sandbox')."
                if urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")
                else "."
            ),
        )

    def _failed_write_or_network(
        self,
        reason: str,
        method: str,
        path: str,
        attempts: int,
        clock: float,
        can_repeat: bool,
        key: str | None,
        write: str | None,
        started: float,
        context: str,
    ) -> TransportError:
        seconds = time.monotonic() - clock
        if write is None:
            return TransportError(
                f"{reason} ({_attempts(attempts)} over {seconds:.1f} s).", vendor=self.vendor, method=method, path=path
            )
        detail = "the request was sent but no answer came back" if not can_repeat else "no attempt was answered"
        error = TransportError(
            f"{reason}; {detail} ({_attempts(attempts)} over {seconds:.1f} s).",
            vendor=self.vendor,
            method=method,
            path=path,
        )
        return self._uncertain(error, key, write, started, context)

    def _uncertain(
        self, error: ConnectorError, key: str | None, write: str, started: float, context: str
    ) -> UncertainOutcome:
        """The write may have been applied: remember it, and say how to repeat it safely."""
        journal.remember(write, key, started)
        if key:
            hint = (
                f"It may have been applied. Repeat the same call in this robot and it reuses idempotency key "
                f"{key}, so {self.vendor} answers with the first result instead of writing twice; from another "
                f"process pass idempotency_key={key}."
            )
        else:
            hint = context or UncertainOutcome.default_hint
        message = error.message.rstrip(".") + "; the write may or may not have been applied."
        if isinstance(error, UncertainOutcome):
            return error.replace(message=message, hint=hint)
        return UncertainOutcome(
            message,
            vendor=error.vendor,
            method=error.method,
            path=error.path,
            status=error.status,
            vendor_message=error.vendor_message,
            hint=hint,
            details=error.details,
            idempotency_key=key,
            started_at=started,
        )

    def error_for(
        self,
        response: requests.Response,
        method: str,
        path: str,
        attempts: int = 1,
        can_repeat: bool = True,
    ) -> ConnectorError:
        status = response.status_code
        vendor_message = redactor.redact(self.config.error_format.read(response) or response.reason or "")
        cls = error_class(status)
        message = vendor_message or response.reason or "request failed"
        if status >= 500:
            message = f"the server failed{f' after {attempts} attempts' if attempts > 1 else ''}: {message}"
        kwargs: dict[str, Any] = {
            "vendor": self.vendor,
            "method": method,
            "path": path,
            "status": status,
            "vendor_message": vendor_message,
            "hint": self.config.hints.get(status),
            "details": _json_or_none(response),
        }
        if cls is RateLimited:
            return RateLimited(message, retry_after=_retry_after(response), **kwargs)
        return cls(message, **kwargs)

    def close(self) -> None:
        self.session.close()


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


def _body_digest(json: Any, data: Any, files: Any) -> Any:
    """What identifies a request body: the JSON itself, else a digest of the form data and files."""
    if json is not None or (data is None and files is None):
        return json
    parts: list[Any] = [data if isinstance(data, (dict, list, str)) else type(data).__name__]
    for name, value in files.items() if isinstance(files, Mapping) else files or []:
        content = value[1] if isinstance(value, tuple) and len(value) > 1 else value
        if isinstance(content, str):
            content = content.encode()
        digest = hashlib.sha256(content).hexdigest() if isinstance(content, bytes) else getattr(content, "name", "")
        parts.append([name, digest])
    return fingerprint(*parts)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _attempts(count: int) -> str:
    return f"{count} attempt{'s' if count != 1 else ''}"


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
        if "NameResolutionError" in repr(error):
            return "could not resolve the host"
        if _is_connect_failure(error):
            return "could not connect"
        return "the connection was dropped"
    return f"request failed ({type(error).__name__})"
