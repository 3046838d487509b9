"""OpenID Connect id-token verification: discovery + JWKS, both cached, keys refreshed on an unknown ``kid``.

An id token is trusted only when its signature verifies with a key the provider publishes, with an
asymmetric algorithm the provider announces (never ``none``, never HMAC: an ``HS256`` token "signed"
with the provider's public key is a classic forgery), and when ``iss``, ``aud``, ``exp`` and ``iat``
are right. PyJWT does the cryptography; this module pins its inputs and turns each refusal into one
clear sentence.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import jwt
import requests

from Connectors.core.errors import AuthenticationError, ConfigurationError, TransportError

DISCOVERY_PATH = "/.well-known/openid-configuration"
# Only public-key algorithms: a verifier that accepted HS256 could be fooled with the public key as secret.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

FetchJson = Callable[[str], Any]


class IdTokenError(AuthenticationError):
    """An id token that must not be trusted."""

    default_hint = "Do not trust this login: log in again, and check the client id and the provider URL."


def _fetch_json(url: str, timeout: float = 10.0) -> Any:
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"}, allow_redirects=False)
    except requests.RequestException as error:
        raise TransportError(f"Could not reach {url} ({type(error).__name__}).")
    if response.status_code != 200:
        raise ConfigurationError(
            f"{url} answered HTTP {response.status_code}.",
            hint="Check the provider URL (is OpenID Connect enabled there?).",
        )
    try:
        return response.json()
    except ValueError:
        raise ConfigurationError(f"{url} did not return JSON.", hint="Check the provider URL.")


class _JWKSClient(jwt.PyJWKClient):
    """PyJWT's JWKS client (cache, refresh on unknown ``kid`` with a cooldown), fetching through ``fetch``."""

    def __init__(self, uri: str, fetch: FetchJson, lifespan: float, cooldown: float) -> None:
        super().__init__(uri, cache_jwk_set=True, lifespan=lifespan, cooldown_duration=cooldown)
        self._fetch = fetch

    def fetch_data(self) -> Any:
        data = self._fetch(self.uri)
        if not isinstance(data, dict):
            raise jwt.PyJWKClientError("The JWKS endpoint did not return a JSON object")
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(data)
        self._last_successful_fetch = time.monotonic()
        return data


class OpenIDProvider:
    """One issuer's discovery document and signing keys, cached per discovery URL in this process."""

    _instances: dict[str, OpenIDProvider] = {}
    _instances_lock = threading.Lock()

    def __init__(
        self,
        discovery_url: str,
        *,
        fetch: FetchJson | None = None,
        max_age: float = 3600.0,
        key_refresh_cooldown: float = 5.0,
    ) -> None:
        self.discovery_url = discovery_url
        self.fetch = fetch or _fetch_json
        self.max_age = max_age
        self.key_refresh_cooldown = key_refresh_cooldown
        self._document: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._jwks: _JWKSClient | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_url(cls, discovery_url: str) -> OpenIDProvider:
        """The shared, cached provider for ``discovery_url``."""
        with cls._instances_lock:
            provider = cls._instances.get(discovery_url)
            if provider is None:
                provider = cls._instances[discovery_url] = cls(discovery_url)
            return provider

    @property
    def expected_issuer(self) -> str:
        # OpenID Connect Discovery 1.0 §4.3: the issuer is the URL the document was fetched under.
        url = self.discovery_url
        return url[: -len(DISCOVERY_PATH)] if url.endswith(DISCOVERY_PATH) else url

    def document(self) -> dict[str, Any]:
        with self._lock:
            if self._document is None or time.monotonic() - self._fetched_at > self.max_age:
                data = self.fetch(self.discovery_url)
                if not isinstance(data, dict) or not data.get("issuer") or not data.get("jwks_uri"):
                    raise ConfigurationError(
                        f"{self.discovery_url} is not an OpenID provider configuration (issuer or jwks_uri missing).",
                        hint="Check the provider URL.",
                    )
                if str(data["issuer"]).rstrip("/") != self.expected_issuer.rstrip("/"):
                    raise IdTokenError(
                        f"The provider configuration at {self.discovery_url} names the issuer "
                        f"{data['issuer']!r}, not {self.expected_issuer!r}."
                    )
                self._document = data
                self._fetched_at = time.monotonic()
                self._jwks = None
            return self._document

    @property
    def issuer(self) -> str:
        return str(self.document()["issuer"])

    def algorithms(self) -> list[str]:
        announced = self.document().get("id_token_signing_alg_values_supported") or ["RS256"]
        return [alg for alg in announced if alg in ASYMMETRIC_ALGORITHMS]

    def jwks(self) -> _JWKSClient:
        document = self.document()
        with self._lock:
            if self._jwks is None:
                self._jwks = _JWKSClient(
                    str(document["jwks_uri"]),
                    self.fetch,
                    lifespan=self.max_age,
                    cooldown=self.key_refresh_cooldown,
                )
            return self._jwks

    def signing_key(self, kid: str | None) -> jwt.PyJWK:
        client = self.jwks()
        try:
            if kid is not None:
                return client.get_signing_key(kid)
            keys = client.get_signing_keys()
        except jwt.PyJWKClientError as error:
            if kid is not None and "Unable to find" in str(error):
                raise IdTokenError(
                    f"The id token is signed with key id {kid!r}, which the provider does not "
                    f"publish at {client.uri} (checked again after refreshing the keys)."
                )
            raise IdTokenError(f"The provider's signing keys at {client.uri} are unusable: {error}.")
        if len(keys) != 1:
            raise IdTokenError("The id token names no key id (kid) and the provider publishes several keys.")
        return keys[0]


def _when(timestamp: Any) -> str:
    try:
        return datetime.fromtimestamp(float(timestamp), timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (TypeError, ValueError, OverflowError):
        return repr(timestamp)


def verify_id_token(
    id_token: str,
    *,
    provider: OpenIDProvider,
    audience: str,
    nonce: str | None = None,
    leeway: float = 60.0,
) -> dict[str, Any]:
    """The verified claims of ``id_token``, or ``IdTokenError`` saying exactly what is wrong."""
    try:
        header = jwt.get_unverified_header(id_token)
        unverified = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.DecodeError as error:
        raise IdTokenError(f"The id token is not a well-formed JWT ({error}).")
    alg = str(header.get("alg", ""))
    allowed = provider.algorithms()
    if alg.lower() == "none":
        raise IdTokenError("The id token is unsigned (alg: none) and was rejected.")
    if alg not in allowed:
        reason = (
            " HMAC with the provider's public key as the secret is a known forgery."
            if alg.upper().startswith("HS")
            else ""
        )
        raise IdTokenError(
            f"The id token is signed with {alg!r}, but the provider signs id tokens with "
            f"{', '.join(allowed) or 'no supported algorithm'}.{reason}"
        )
    issuer = provider.issuer
    if unverified.get("iss") != issuer:
        # Said before looking for its key: "another issuer" is clearer than "unknown key id".
        raise IdTokenError(f"The id token was issued by {unverified.get('iss')!r}, not by {issuer!r}.")
    key = provider.signing_key(header.get("kid"))
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key=key.key,
            algorithms=[alg],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": ["iss", "sub", "aud", "exp", "iat"], "verify_iat": True},
        )
    except jwt.ExpiredSignatureError:
        raise IdTokenError(f"The id token expired at {_when(unverified.get('exp'))}.")
    except jwt.ImmatureSignatureError:
        raise IdTokenError(f"The id token claims to be issued in the future, at {_when(unverified.get('iat'))}.")
    except jwt.InvalidAudienceError:
        raise IdTokenError(
            f"The id token is for the audience {unverified.get('aud')!r}, not this client ({audience!r})."
        )
    except jwt.InvalidIssuerError:
        raise IdTokenError(f"The id token was issued by {unverified.get('iss')!r}, not by {issuer!r}.")
    except jwt.MissingRequiredClaimError as error:
        raise IdTokenError(f"The id token lacks the required claim {error.claim!r}.")
    except jwt.InvalidSignatureError:
        raise IdTokenError(
            "The id token's signature does not verify with the provider's published key "
            f"{header.get('kid')!r}: it was not signed by {issuer!r} or was altered."
        )
    except jwt.InvalidTokenError as error:
        raise IdTokenError(f"The id token is invalid: {error}.")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != audience:
        raise IdTokenError(
            f"The id token has several audiences and its authorized party (azp) "
            f"{claims.get('azp')!r} is not this client ({audience!r})."
        )
    if nonce is not None and claims.get("nonce") != nonce:
        raise IdTokenError("The id token's nonce does not match the one sent with the login request.")
    return claims
