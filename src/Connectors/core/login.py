"""Interactive OAuth2 login: the authorization-code flow with PKCE (S256) over a loopback redirect.

What a person expects from ``connectors login <vendor>``: the authorize URL is printed (and opened
when a browser exists), the provider redirects to ``http://127.0.0.1:<port>/callback``, where a
one-shot local server receives it; ``state`` is checked, the code is exchanged (requests-oauthlib
builds the PKCE verifier and challenge), an id token is verified when one comes back, and the token
lands in the token store under the vendor's key. Nothing here knows a vendor: the caller passes the
endpoints, the client and the key.
"""

from __future__ import annotations

import contextlib
import html
import os
import secrets
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from Connectors.core.auth import allow_loopback_http
from Connectors.core.errors import AuthenticationError, ConfigurationError, TransportError
from Connectors.core.redact import redactor
from Connectors.core.tokens import TokenStore

# (id_token, nonce) -> verified claims; raises when the token must not be trusted.
IdTokenVerifier = Callable[[str, "str | None"], dict[str, Any]]


@dataclass
class LoginSettings:
    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str | None
    store_key: str
    scopes: list[str] = field(default_factory=list)
    # "body": client_id/client_secret in the form (RFC 6749 §2.3.1 alternative); "basic": HTTP Basic.
    client_auth: str = "body"
    redirect_host: str = "127.0.0.1"
    port: int = 0
    redirect_path: str = "/callback"
    timeout: float = 300.0
    extra_authorize_params: dict[str, str] = field(default_factory=dict)
    verify_id_token: IdTokenVerifier | None = None


@dataclass
class LoginResult:
    token: dict[str, Any]
    store_key: str
    store_path: str
    claims: dict[str, Any] | None = None
    redirect_uri: str = ""
    granted_scopes: list[str] = field(default_factory=list)


def can_open_browser() -> bool:
    """True where a graphical browser can be expected; on a headless Linux box text browsers would
    take over the terminal that prints the URL."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_in_browser(url: str) -> None:
    # The URL is printed anyway, so a browser that cannot start is no failure.
    with contextlib.suppress(webbrowser.Error):
        webbrowser.open(url, new=1, autoraise=True)


def fetch_without_browser(url: str) -> None:
    """Follow the authorize URL with plain HTTP, for providers that consent automatically (a sandbox,
    a CI identity provider): the redirect lands on the loopback server like a browser's would."""
    requests.get(url, timeout=30, allow_redirects=True)


class _Callback:
    def __init__(self, path: str) -> None:
        self.path = path
        self.params: dict[str, str] | None = None
        self.received = threading.Event()


def _handler(callback: _Callback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            if parsed.path != callback.path or callback.received.is_set():
                # Browsers also ask for /favicon.ico; only the first redirect counts.
                self.send_error(404)
                return
            callback.params = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
            failed = "error" in callback.params or "code" not in callback.params
            message = (
                "The login did not complete; see the terminal for details."
                if failed
                else "Login received. You can close this window and return to the terminal."
            )
            body = (
                f"<!doctype html><meta charset=utf-8><title>connectors login</title><p>{html.escape(message)}</p>"
            ).encode()
            self.send_response(400 if failed else 200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
            callback.received.set()

        def log_message(self, format: str, *args: Any) -> None:
            # The default writes the request line, with the authorization code, to stderr.
            return None

    return Handler


def run_login(
    settings: LoginSettings,
    store: TokenStore,
    *,
    open_url: Callable[[str], object] | None = None,
    out: Callable[[str], object] = print,
) -> LoginResult:
    """Run the whole flow; ``open_url`` shows the authorize URL to the person (None: print only)."""
    from oauthlib.oauth2 import OAuth2Error
    from requests_oauthlib import OAuth2Session

    for url in (settings.authorize_url, settings.token_url):
        host = urlparse(url).hostname or ""
        loopback = host in ("localhost", "::1") or host.startswith("127.")
        allow_loopback_http(url)
        if not url.startswith("https://") and not (url.startswith("http://") and loopback):
            raise ConfigurationError(
                f"The OAuth endpoint {url} does not use HTTPS.",
                hint="Use the provider's https:// URL; plain HTTP is for loopback only.",
            )
    redactor.register(settings.client_secret)
    callback = _Callback(settings.redirect_path)
    try:
        server = HTTPServer((settings.redirect_host, settings.port), _handler(callback))
    except OSError as error:
        raise ConfigurationError(
            f"Cannot listen on {settings.redirect_host}:{settings.port} for the redirect ({error.strerror}).",
            hint="Choose another port with --port.",
        )
    port = server.server_address[1]
    redirect_uri = f"http://{settings.redirect_host}:{port}{settings.redirect_path}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        session = OAuth2Session(
            settings.client_id,
            redirect_uri=redirect_uri,
            scope=settings.scopes or None,
            state=secrets.token_urlsafe(24),
            pkce="S256",
        )
        extra = dict(settings.extra_authorize_params)
        nonce = secrets.token_urlsafe(16) if "openid" in settings.scopes else None
        if nonce:
            extra["nonce"] = nonce
        url, state = session.authorization_url(settings.authorize_url, **extra)
        out(f"Open this URL to log in (waiting for the redirect to {redirect_uri}):\n\n    {url}\n")
        if open_url is not None:
            try:
                open_url(url)
            except requests.RequestException as error:
                raise TransportError(f"Could not open the authorize URL ({type(error).__name__}).")
        if not callback.received.wait(settings.timeout):
            raise AuthenticationError(
                f"No redirect arrived at {redirect_uri} in {settings.timeout:.0f} s.",
                hint="Open the printed URL in a browser on this machine and approve "
                "the access, or run the login again.",
            )
    finally:
        server.shutdown()
        server.server_close()
    params = callback.params or {}
    if "error" in params:
        description = f" ({params['error_description']})" if params.get("error_description") else ""
        raise AuthenticationError(
            f"The provider refused the login: {params['error']}{description}.",
            hint="Check the client id, the redirect URI registered for the app and the scopes, then log in again.",
        )
    if not secrets.compare_digest(params.get("state", ""), state):
        raise AuthenticationError(
            "The redirect carried a different state than the login request; it was "
            "rejected (possible cross-site request forgery).",
            hint="Run the login again.",
        )
    code = params.get("code", "")
    redactor.register(code)
    auth_kwargs: dict[str, Any]
    if settings.client_auth == "basic":
        auth_kwargs = {"auth": requests.auth.HTTPBasicAuth(settings.client_id, settings.client_secret or "")}
    else:
        auth_kwargs = {"include_client_id": True, "client_secret": settings.client_secret}
    narrowed_from: list[str] | None = None
    try:
        token = dict(session.fetch_token(settings.token_url, code=code, timeout=30, **auth_kwargs))
    except OAuth2Error as error:
        raise AuthenticationError(
            f"The code exchange failed: {error.error}" + (f" ({error.description})" if error.description else "") + ".",
            hint="Check the client secret and the redirect URI, then log in again.",
        )
    except requests.RequestException as error:
        raise TransportError(f"Could not reach the token endpoint {settings.token_url} ({type(error).__name__}).")
    except Warning as warning:
        # oauthlib raises when the provider grants other scopes than requested (e.g. an admin whose
        # permissions were reduced); the token is valid for what was granted.
        token = dict(getattr(warning, "token", {}) or {})
        if not token:
            raise
        narrowed_from = list(settings.scopes)
    claims = None
    if token.get("id_token") and settings.verify_id_token is not None:
        redactor.register(token["id_token"])
        claims = settings.verify_id_token(str(token["id_token"]), nonce)
    granted = token.get("scope") or settings.scopes
    granted_list = granted.split() if isinstance(granted, str) else list(granted)
    token.setdefault("obtained_at", time.time())
    store.put(settings.store_key, token)
    if narrowed_from is not None:
        out(f"Note: the provider granted fewer scopes than requested ({' '.join(narrowed_from)}).")
    return LoginResult(
        token=token,
        store_key=settings.store_key,
        store_path=store.location,
        claims=claims,
        redirect_uri=redirect_uri,
        granted_scopes=granted_list,
    )


def describe(result: LoginResult) -> str:
    """A summary for the terminal: where the token went and what it allows, never the token itself."""
    expires = result.token.get("expires_at")
    lifetime = (
        f"expires in {max(0, float(expires) - time.time()):.0f} s"
        + (", refreshed automatically" if result.token.get("refresh_token") else "")
        if expires
        else "does not expire"
    )
    lines = [
        f"Logged in. Token stored under {result.store_key!r} in {result.store_path} ({lifetime}).",
        f"Scopes: {' '.join(result.granted_scopes) or '(provider default)'}",
    ]
    if result.claims:
        who = result.claims.get("email") or result.claims.get("name") or result.claims.get("sub")
        lines.append(f"Identity verified (OpenID Connect): {who} (subject {result.claims.get('sub')}).")
    return "\n".join(lines)
