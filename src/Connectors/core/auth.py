"""How a request proves who sends it: Basic, header keys, bearer tokens, OAuth2 with a token store."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any
from urllib.parse import urlparse

from Connectors.core.errors import AuthenticationError, TransportError
from Connectors.core.redact import redactor
from Connectors.core.tokens import RefreshRefused, TokenStore


def fingerprint(value: str) -> str:
    """A short, non-reversible tag for a high-entropy credential, for bucket keys and token-store keys."""
    return hashlib.sha256(value.encode()).hexdigest()[:12]


class Auth:
    """Base strategy: adds nothing."""

    #: A name for the credential that is safe to show and to use in throttle keys.
    identity = "anonymous"

    def apply(self, headers: dict[str, str]) -> None:
        return None

    def on_unauthorized(self) -> bool:
        """Called after a 401. Return True when a retry with fresh credentials makes sense."""
        return False

    def describe(self) -> str:
        return type(self).__name__


class BasicAuth(Auth):
    def __init__(self, username: str, password: str) -> None:
        redactor.register(password)
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        redactor.register(token)
        self._header = f"Basic {token}"
        self.identity = username

    def apply(self, headers: dict[str, str]) -> None:
        headers["Authorization"] = self._header

    def describe(self) -> str:
        return f"HTTP Basic as {self.identity}"


class HeaderAuth(Auth):
    """Static header credentials: an ``Authorization`` scheme with a key, or key/secret header pairs."""

    def __init__(self, headers: Mapping[str, str], identity: str, secrets: tuple[str, ...] = ()) -> None:
        redactor.register(*secrets, *headers.values())
        redactor.register_header(*headers)
        self._headers = dict(headers)
        self.identity = identity

    def apply(self, headers: dict[str, str]) -> None:
        headers.update(self._headers)

    def describe(self) -> str:
        return f"header key {self.identity}"


class BearerAuth(HeaderAuth):
    def __init__(self, token: str, identity: str | None = None) -> None:
        super().__init__({"Authorization": f"Bearer {token}"}, identity or f"token-{fingerprint(token)}", (token,))

    def describe(self) -> str:
        return f"bearer token {self.identity}"


def allow_loopback_http(url: str) -> None:
    """oauthlib refuses plain HTTP; allow it only for loopback hosts (the local sandbox)."""
    host = urlparse(url).hostname or ""
    if url.startswith("http://") and (host in ("localhost", "::1") or host.startswith("127.")):
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")


# A dataclass for its fields; no generated repr (it would show the client secret) and identity equality.
@dataclass(repr=False, eq=False)
class OAuth2Auth(Auth):
    """Authorization-code tokens from a ``TokenStore``, refreshed near expiry or once after a 401.

    Follows the vendors' rule of not refreshing before the token is (almost) expired: ``leeway``
    seconds before ``expires_at``. Tokens without an expiry (long-lived) are never refreshed early.
    ``login`` is the command that stores a token for this client, for the messages that ask for one.
    """

    store: TokenStore
    key: str
    token_url: str
    client_id: str
    client_secret: str | None
    _: KW_ONLY
    leeway: float = 60.0
    timeout: float = 30.0
    login: str = "connectors login"

    def __post_init__(self) -> None:
        redactor.register(self.client_secret)
        self.identity = f"oauth-{fingerprint(self.key)}"
        self._token: dict[str, Any] | None = None
        self._lock = threading.Lock()
        allow_loopback_http(self.token_url)

    def describe(self) -> str:
        return f"OAuth2 token {self.key!r} from {self.store.location}"

    def _needs_refresh(self, token: Mapping[str, Any]) -> bool:
        expires_at = token.get("expires_at")
        return expires_at is not None and float(expires_at) - self.leeway <= time.time()

    def _load(self) -> dict[str, Any]:
        if self._token is None:
            token = self.store.get(self.key)
            if not token:
                raise self.store.missing(self.key, self.login)
            self._token = token
        return self._token

    def _refresh(self, current: dict[str, Any]) -> dict[str, Any]:
        if not current.get("refresh_token"):
            raise AuthenticationError(
                "The stored OAuth2 token expired and has no refresh token.",
                hint=f"Log in again with '{self.login} --token-store {self.store.spec}'.",
            )
        from oauthlib.oauth2 import OAuth2Error
        from requests_oauthlib import OAuth2Session

        session = OAuth2Session(self.client_id, token=current)
        try:
            return dict(
                session.refresh_token(
                    self.token_url,
                    refresh_token=current["refresh_token"],
                    client_id=self.client_id,
                    client_secret=self.client_secret,
                    timeout=self.timeout,
                )
            )
        except OAuth2Error as error:
            # invalid_grant: the refresh token is revoked or spent - perhaps by another worker that shares it.
            refused = error.error == "invalid_grant"
            raise (RefreshRefused if refused else AuthenticationError)(
                f"Refreshing the OAuth2 token failed: {error.error}"
                + (f" ({error.description})" if error.description else "")
                + ".",
                hint=self.store.refused_hint(self.login) if refused else "Check the OAuth client id and secret.",
            )
        except OSError as error:
            raise TransportError(f"Could not reach the token endpoint {self.token_url}: {error}.")

    def apply(self, headers: dict[str, str]) -> None:
        with self._lock:
            token = self._load()
            if self._needs_refresh(token):
                token = self._token = self.store.refresh_once(
                    self.key, token, self._needs_refresh, self._refresh, login=self.login
                )
        headers["Authorization"] = f"Bearer {token['access_token']}"

    def on_unauthorized(self) -> bool:
        with self._lock:
            stale = self._token
            self._token = self.store.refresh_once(
                self.key, stale, self._needs_refresh, self._refresh, force=True, login=self.login
            )
        return True
