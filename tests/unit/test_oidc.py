"""Id-token verification: a genuine token passes; every forgery is rejected with a clear message.

The provider is in memory (discovery and JWKS served by an injected fetcher), so the keys can be
rotated and the fetches counted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from Connectors.core.errors import AuthenticationError, ConfigurationError
from Connectors.core.oidc import DISCOVERY_PATH, IdTokenError, OpenIDProvider, verify_id_token

ISSUER = "https://id.example.test"
CLIENT = "my-client"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY = _key()
OTHER_KEY = _key()


class FakeProvider:
    """Discovery + JWKS documents, with a fetch counter."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {"k1": KEY}
        self.fetches: list[str] = []
        self.issuer = ISSUER
        self.algs = ["RS256"]

    def fetch(self, url: str) -> Any:
        self.fetches.append(url)
        if url == ISSUER + DISCOVERY_PATH:
            return {
                "issuer": self.issuer,
                "jwks_uri": ISSUER + "/jwks.json",
                "id_token_signing_alg_values_supported": self.algs,
            }
        if url == ISSUER + "/jwks.json":
            keys = []
            for kid, key in self.keys.items():
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
                jwk.update(kid=kid, use="sig", alg="RS256")
                keys.append(jwk)
            return {"keys": keys}
        raise AssertionError(url)


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def provider(fake: FakeProvider) -> OpenIDProvider:
    return OpenIDProvider(ISSUER + DISCOVERY_PATH, fetch=fake.fetch, key_refresh_cooldown=0)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": CLIENT,
        "iat": now,
        "exp": now + 600,
        "email": "a@example.com",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], key: Any = KEY, kid: str | None = "k1", alg: str = "RS256") -> str:
    headers = {"kid": kid} if kid else {}
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def verify(token: str, provider: OpenIDProvider, **kwargs: Any) -> dict[str, Any]:
    return verify_id_token(token, provider=provider, audience=CLIENT, **kwargs)


def test_a_genuine_token_passes_and_keys_are_cached(provider: OpenIDProvider, fake: FakeProvider) -> None:
    assert verify(sign(claims()), provider)["email"] == "a@example.com"
    assert verify(sign(claims(sub="user-2")), provider)["sub"] == "user-2"
    # One discovery fetch and one JWKS fetch for both verifications.
    assert fake.fetches == [ISSUER + DISCOVERY_PATH, ISSUER + "/jwks.json"]


def test_a_token_signed_with_another_key_is_rejected(provider: OpenIDProvider) -> None:
    with pytest.raises(IdTokenError, match="signature does not verify"):
        verify(sign(claims(), key=OTHER_KEY), provider)


def test_alg_none_is_rejected(provider: OpenIDProvider) -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{_b64(claims())}."
    with pytest.raises(IdTokenError, match=r"unsigned \(alg: none\)"):
        verify(unsigned, provider)


def test_hs256_signed_with_the_public_key_is_rejected(provider: OpenIDProvider) -> None:
    pem = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    # PyJWT refuses to HMAC with a PEM key, so build the forgery by hand, as an attacker would.
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'k1'})}.{_b64(claims())}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    forged = signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    with pytest.raises(IdTokenError, match=r"HS256.*known forgery"):
        verify(forged, provider)


def test_an_expired_token_is_rejected(provider: OpenIDProvider) -> None:
    old = int(time.time()) - 7200
    with pytest.raises(IdTokenError, match=r"expired at \d{4}-\d\d-\d\d"):
        verify(sign(claims(iat=old, exp=old + 600)), provider)


def test_a_token_for_another_audience_is_rejected(provider: OpenIDProvider) -> None:
    with pytest.raises(IdTokenError, match=r"audience 'someone-else', not this client \('my-client'\)"):
        verify(sign(claims(aud="someone-else")), provider)


def test_a_token_of_another_issuer_is_rejected(provider: OpenIDProvider) -> None:
    with pytest.raises(IdTokenError, match=r"issued by 'https://evil\.example'"):
        verify(sign(claims(iss="https://evil.example")), provider)


def test_a_token_from_the_future_is_rejected(provider: OpenIDProvider) -> None:
    later = int(time.time()) + 3600
    with pytest.raises(IdTokenError, match="issued in the future"):
        verify(sign(claims(iat=later, exp=later + 600)), provider)


def test_missing_claims_are_named(provider: OpenIDProvider) -> None:
    with pytest.raises(IdTokenError, match="lacks the required claim 'iat'"):
        verify(sign(claims(iat=None)), provider)


def test_nonce_must_match_when_given(provider: OpenIDProvider) -> None:
    token = sign(claims(nonce="abc"))
    assert verify(token, provider, nonce="abc")["nonce"] == "abc"
    with pytest.raises(IdTokenError, match="nonce"):
        verify(token, provider, nonce="other")


def test_several_audiences_need_azp(provider: OpenIDProvider) -> None:
    with pytest.raises(IdTokenError, match="azp"):
        verify(sign(claims(aud=[CLIENT, "other"])), provider)
    assert verify(sign(claims(aud=[CLIENT, "other"], azp=CLIENT)), provider)["azp"] == CLIENT


def test_an_unknown_kid_refreshes_the_keys_once(provider: OpenIDProvider, fake: FakeProvider) -> None:
    verify(sign(claims()), provider)
    fake.keys["k2"] = OTHER_KEY  # the provider rotates its keys
    assert verify(sign(claims(), key=OTHER_KEY, kid="k2"), provider)["sub"] == "user-1"
    assert fake.fetches.count(ISSUER + "/jwks.json") == 2
    with pytest.raises(IdTokenError, match="key id 'k9', which the provider does not publish"):
        verify(sign(claims(), kid="k9"), provider)


def test_garbage_is_not_a_jwt(provider: OpenIDProvider) -> None:
    with pytest.raises(IdTokenError, match="not a well-formed JWT"):
        verify("not-a-token", provider)


def test_a_discovery_document_naming_another_issuer_is_refused(fake: FakeProvider) -> None:
    fake.issuer = "https://evil.example"
    provider = OpenIDProvider(ISSUER + DISCOVERY_PATH, fetch=fake.fetch)
    with pytest.raises(IdTokenError, match=r"names the issuer 'https://evil\.example'"):
        verify(sign(claims()), provider)


def test_hmac_is_never_accepted_even_when_announced(fake: FakeProvider) -> None:
    fake.algs = ["HS256", "RS256"]
    provider = OpenIDProvider(ISSUER + DISCOVERY_PATH, fetch=fake.fetch)
    assert provider.algorithms() == ["RS256"]


def test_a_broken_discovery_document_is_a_configuration_error() -> None:
    provider = OpenIDProvider(ISSUER + DISCOVERY_PATH, fetch=lambda url: {"hello": "world"})
    with pytest.raises(ConfigurationError, match="not an OpenID provider configuration"):
        provider.document()


def test_errors_are_authentication_errors_with_a_hint(provider: OpenIDProvider) -> None:
    with pytest.raises(AuthenticationError) as caught:
        verify(sign(claims(aud="x")), provider)
    assert "log in again" in str(caught.value)
    assert "\n" not in str(caught.value)
