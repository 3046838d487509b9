"""An OAuth2 authorization server for the sandbox: authorization code with auto-consent, PKCE (S256),
token and refresh with rotation, and OpenID Connect (discovery, JWKS, RS256 id tokens, userinfo).

Vendor emulations configure paths and clients; real clients (requests-oauthlib, PyJWT) work against it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from connectors_sandbox.common import basic_credentials, bearer_token


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ()  # empty = any loopback redirect
    name: str = ""


@dataclass
class Grant:
    """What a token stands for."""

    user: dict[str, Any]
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float | None = None
    space: str | None = None  # a token that belongs to one space (Cobot's space-owned tokens)

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and time.time() >= self.expires_at


@dataclass
class _Code:
    grant: Grant
    redirect_uri: str
    challenge: str | None
    method: str | None
    nonce: str | None
    issued: float = field(default_factory=time.time)


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


class OAuthServer:
    def __init__(
        self,
        *,
        issuer: str,
        clients: list[OAuthClient],
        users: list[dict[str, Any]],
        scopes: list[str],
        access_ttl: float | None = 3600,
        issue_refresh_tokens: bool = True,
        openid: bool = False,
        scope_separator: str = " ",
        paths: dict[str, str] | None = None,
        remember_secret: Any = None,
    ) -> None:
        self.remember = remember_secret or (lambda *values: None)
        self.remember(*(c.client_secret for c in clients))
        self.issuer = issuer
        self.clients = {c.client_id: c for c in clients}
        self.users = users
        self.scopes = scopes
        self.access_ttl = access_ttl
        self.issue_refresh_tokens = issue_refresh_tokens
        self.openid = openid
        self.scope_separator = scope_separator
        self.paths = {
            "authorize": "/oauth2/authorize",
            "token": "/oauth2/tokens",
            "discovery": "/.well-known/openid-configuration",
            "jwks": "/jwks.json",
            "userinfo": "/api/userinfo",
            **(paths or {}),
        }
        self._lock = threading.Lock()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._codes: dict[str, _Code] = {}
            self._access: dict[str, Grant] = {}
            self._refresh: dict[str, Grant] = {}
            self.refresh_count = 0
            self.refused_refresh_count = 0  # refresh tokens presented again after rotation, or unknown

    # -- used by vendor endpoints ---------------------------------------------------------------
    def grant_for(self, request: Request) -> Grant | None:
        return self.grant_of(bearer_token(request) or "")

    def grant_of(self, token: str) -> Grant | None:
        """What an access token stands for, or None when it is unknown or expired."""
        if not token:
            return None
        with self._lock:
            grant = self._access.get(token)
        if grant is None or grant.expired:
            return None
        return grant

    def expire_all(self) -> None:
        """Expire every access token at once (tests of refresh after 401)."""
        with self._lock:
            for grant in self._access.values():
                grant.expires_at = time.time() - 1

    # -- routes ---------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        routes = [
            Route(self.paths["authorize"], self.authorize, methods=["GET"]),
            Route(self.paths["token"], self.token, methods=["POST"]),
        ]
        if self.openid:
            routes += [
                Route(self.paths["discovery"], self.discovery, methods=["GET"]),
                Route(self.paths["jwks"], self.jwks, methods=["GET"]),
                Route(self.paths["userinfo"], self.userinfo, methods=["GET"]),
            ]
        return routes

    def _endpoint(self, name: str) -> str:
        return self.issuer.rstrip("/") + self.paths[name]

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        client = self.clients.get(q.get("client_id", ""))
        if client is None:
            return _oauth_error("invalid_client", "Unknown client_id.")
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri or (client.redirect_uris and redirect_uri not in client.redirect_uris):
            return _oauth_error("invalid_request", "redirect_uri is missing or not registered for this client.")

        def back(**params: str) -> Response:
            joiner = "&" if "?" in redirect_uri else "?"
            state = q.get("state")
            if state is not None:
                params["state"] = state
            return RedirectResponse(redirect_uri + joiner + urlencode(params), status_code=302)

        if q.get("response_type") != "code":
            return back(error="unsupported_response_type", error_description="Only response_type=code.")
        requested = [s for s in q.get("scope", "").replace(",", " ").split() if s]
        unknown = [s for s in requested if s not in self.scopes and s != "openid"]
        if unknown:
            return back(error="invalid_scope", error_description=f"Unknown scope(s): {' '.join(unknown)}")
        challenge, method = q.get("code_challenge"), q.get("code_challenge_method")
        if challenge and (method or "plain") != "S256":
            return back(error="invalid_request", error_description="Only code_challenge_method=S256 is supported.")
        login = q.get("login_hint")
        user = next((u for u in self.users if login and login in (str(u.get("id")), u.get("email"))), self.users[0])
        code = secrets.token_urlsafe(18)
        self.remember(code)
        grant = Grant(user, client.client_id, tuple(requested or self.scopes))
        with self._lock:
            self._codes[code] = _Code(grant, redirect_uri, challenge, method, q.get("nonce"))
        return back(code=code)

    def _client_from(self, request: Request, form: dict[str, str]) -> OAuthClient | None:
        creds = basic_credentials(request)
        client_id, secret = creds if creds else (form.get("client_id", ""), form.get("client_secret", ""))
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.client_secret, secret or ""):
            return None
        return client

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client = self._client_from(request, form)
        if client is None:
            return _oauth_error("invalid_client", "Client authentication failed.", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            with self._lock:
                code = self._codes.pop(form.get("code", ""), None)
            if code is None or code.grant.client_id != client.client_id or time.time() - code.issued > 600:
                return _oauth_error("invalid_grant", "The authorization code is invalid, used or expired.")
            if form.get("redirect_uri") and form["redirect_uri"] != code.redirect_uri:
                return _oauth_error("invalid_grant", "redirect_uri does not match the authorization request.")
            if code.challenge:
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if not verifier or not secrets.compare_digest(digest, code.challenge):
                    return _oauth_error("invalid_grant", "PKCE verification failed (code_verifier).")
            return JSONResponse(self._tokens(code.grant, nonce=code.nonce))
        if grant_type == "refresh_token":
            with self._lock:
                grant = self._refresh.pop(form.get("refresh_token", ""), None)
            if grant is None or grant.client_id != client.client_id:
                with self._lock:
                    self.refused_refresh_count += 1
                return _oauth_error("invalid_grant", "The refresh token is invalid or was already used.")
            with self._lock:
                self.refresh_count += 1
            return JSONResponse(self._tokens(Grant(grant.user, grant.client_id, grant.scopes), refresh=True))
        return _oauth_error("unsupported_grant_type", f"Unsupported grant_type {grant_type!r}.")

    def _tokens(self, grant: Grant, nonce: str | None = None, refresh: bool = False) -> dict[str, Any]:
        access = secrets.token_urlsafe(24)
        self.remember(access)
        grant.expires_at = None if self.access_ttl is None else time.time() + self.access_ttl
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "scope": self.scope_separator.join(grant.scopes),
        }
        if self.access_ttl is not None:
            body["expires_in"] = int(self.access_ttl)
        with self._lock:
            self._access[access] = grant
            if self.issue_refresh_tokens:
                refresh_token = secrets.token_urlsafe(24)
                self.remember(refresh_token)
                self._refresh[refresh_token] = Grant(grant.user, grant.client_id, grant.scopes)
                body["refresh_token"] = refresh_token
        if self.openid and "openid" in grant.scopes and not refresh:
            body["id_token"] = self.id_token(grant, nonce)
        return body

    def id_token(self, grant: Grant, nonce: str | None = None, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": str(grant.user["id"]),
            "aud": grant.client_id,
            "iat": now,
            "exp": now + 3600,
        }
        if grant.user.get("email"):
            claims["email"] = grant.user["email"]
        for extra in ("name", "picture", "phone_number"):
            if grant.user.get(extra):
                claims[extra] = grant.user[extra]
        if nonce:
            claims["nonce"] = nonce
        claims.update(overrides)
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    @property
    def public_jwk(self) -> dict[str, Any]:
        import json

        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256")
        return dict(jwk)

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": self._endpoint("authorize"),
                "token_endpoint": self._endpoint("token"),
                "jwks_uri": self._endpoint("jwks"),
                "userinfo_endpoint": self._endpoint("userinfo"),
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", *self.scopes],
                "claims_supported": ["sub", "email", "iss", "aud", "exp", "iat", "name", "picture", "phone_number"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.public_jwk]})

    async def userinfo(self, request: Request) -> Response:
        grant = self.grant_for(request)
        if grant is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse({"sub": str(grant.user["id"]), "email": grant.user.get("email")})
