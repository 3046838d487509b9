"""The Control Room Vault API (``RC_API_SECRET_HOST``) as the vendor's own clients speak it.

The protocol is what rpaframework's ``RPA.Robocorp.Vault.RobocorpVault`` and robocorp-vault's
``RobocorpVault`` send and expect (their code is the only description there is):

- ``GET {host}/secrets-v1/workspaces/{ws}/secrets/{name}?encryptionScheme=robocloud-vault-transit-v2
  &publicKey=<base64 DER SubjectPublicKeyInfo>`` answers ``{name, description, value, encryption:
  {encryptionScheme, encryptedAES, authTag, iv}}``: the JSON of the secret's keys, AES-256-GCM encrypted
  with a fresh key that is RSA-OAEP(SHA-256) encrypted with the CLIENT's public key. The clients use the
  hex form of the ``iv`` bytes as the GCM nonce, and want the tag apart from the ciphertext; all base64.
- ``GET {host}/secrets-v1/workspaces/{ws}/secrets/publicKey`` answers the server's public key: base64
  of its DER SubjectPublicKeyInfo, as the body.
- ``PUT {host}/secrets-v1/workspaces/{ws}/secrets/{name}`` with the same fields encrypted the other way
  round (the SERVER's public key; here the raw ``iv`` bytes are the nonce) replaces every key of the
  secret, and creates it when missing (robocorp-vault's ``create_secret`` relies on that).

Every call carries ``Authorization: Bearer <RC_API_SECRET_TOKEN>``. A token belongs to one workspace and
reads, or reads and writes: an unknown token is a 401, a token of another workspace or without write
access a 403. Errors are Control Room's ``{"error": {"code", "message"}}``, which robocorp-vault reads.

The sandbox mounts these routes under ``/controlroom`` (``RC_API_SECRET_HOST=<sandbox>/controlroom``),
beside the worker-side APIs a robot in a run talks to; ``--demo`` holds the secrets of devdata/vault.json.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors_sandbox.common import ApiError, bearer_token, parse_json
from connectors_sandbox.pipeline import ErrorFormat

SCHEME = "robocloud-vault-transit-v2"
PREFIX = "/secrets-v1/workspaces/{ws}/secrets"
# Fixed demo tokens (/_sandbox/config), so a robot's settings work at every start.
TOKEN = "rcv-demo-read-write-3a7c9e1f5b2d"
READONLY_TOKEN = "rcv-demo-read-only-6d2b8f4a1c9e"
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


@dataclass(frozen=True)
class VaultToken:
    workspace_id: str
    write: bool


@dataclass
class Secret:
    description: str
    values: dict[str, Any]


def demo_secrets() -> dict[str, Secret]:
    """devdata/vault.json's secrets, for the sample robots run against the Vault API instead of the file."""
    from connectors_sandbox.robaws.api import PASSWORD, USERNAME
    from connectors_sandbox.robostack.api import DEMO_API_KEY, DEMO_API_SECRET, DEMO_APP_UUID

    return {
        "robaws": Secret("Robaws demo API user", {"username": USERNAME, "password": PASSWORD}),
        "robostack": Secret(
            "Robostack demo app",
            {"app_uuid": DEMO_APP_UUID, "api_key": DEMO_API_KEY, "api_secret": DEMO_API_SECRET},
        ),
    }


def secret_values(values: dict[str, Any]) -> list[str]:
    """The values that authenticate (kept for the secret-leak checks); user names, ids, scopes, expiry
    times and token types identify or describe, and are allowed to show."""
    return [
        value
        for key, value in values.items()
        if isinstance(value, str)
        and key != "token_key"
        and (key in ("password", "secret") or key.endswith(("_token", "_secret", "_key", "password")))
    ]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: Any, field: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise ApiError(f"{field} must be a non-empty base64 string", 400)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(f"{field} is not valid base64", 400)


class VaultApi:
    """The Vault of the demo workspace: secrets per workspace, tokens that read or read and write."""

    def __init__(
        self,
        workspace_id: str,
        errors: ErrorFormat,
        remember_secret: Callable[..., None],
        base_url: Callable[[], str],
    ) -> None:
        self.workspace_id = workspace_id
        self.errors = errors
        self.remember = remember_secret
        self.base_url = base_url
        self.tokens = {TOKEN: VaultToken(workspace_id, True), READONLY_TOKEN: VaultToken(workspace_id, False)}
        self.remember(*self.tokens)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public = _b64(
            self._key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        self._lock = threading.Lock()
        self.secrets: dict[tuple[str, str], Secret] = {}
        self.writes = 0

    def reset(self, demo: bool) -> None:
        with self._lock:
            self.secrets = {}
            self.writes = 0
            if demo:
                for name, secret in demo_secrets().items():
                    self.secrets[(self.workspace_id, name)] = secret
                    self.remember(*secret_values(secret.values))

    def env(self) -> dict[str, str]:
        """The variables a Control Room run gets for its Vault, pointing at this sandbox."""
        return {
            "RC_API_SECRET_HOST": self.base_url().rstrip("/") + "/controlroom",
            "RC_API_SECRET_TOKEN": TOKEN,
            "RC_WORKSPACE_ID": self.workspace_id,
            "CONTROLROOM_VAULT_READONLY_TOKEN": READONLY_TOKEN,
        }

    def routes(self) -> list[BaseRoute]:
        # publicKey first: it would otherwise be read as a secret's name.
        return [
            Route(PREFIX + "/publicKey", self._guard(self.public_key, write=False), methods=["GET"]),
            Route(PREFIX + "/{name}", self._guard(self.get_secret, write=False), methods=["GET"]),
            Route(PREFIX + "/{name}", self._guard(self.put_secret, write=True), methods=["PUT"]),
        ]

    def _guard(self, handler: Callable[[Request], Any], *, write: bool) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                token = self.tokens.get(bearer_token(request) or "")
                if token is None:
                    raise ApiError("Invalid or missing Vault token", 401)
                if request.path_params["ws"] != token.workspace_id:
                    raise ApiError("The token is not valid for this workspace", 403)
                if write and not token.write:
                    raise ApiError("The token has no write access to the Vault", 403)
                result = await handler(request)
                return result if isinstance(result, Response) else JSONResponse(result)
            except ApiError as error:
                return self.errors.response(error)

        return endpoint

    async def public_key(self, request: Request) -> Response:
        return Response(self._public, media_type="text/plain")

    async def get_secret(self, request: Request) -> Any:
        params = request.query_params
        if params.get("encryptionScheme") != SCHEME:
            raise ApiError(f"encryptionScheme must be {SCHEME}", 400)
        try:
            client_key = serialization.load_der_public_key(_unb64(params.get("publicKey"), "publicKey"))
        except ValueError:
            raise ApiError("publicKey is not a DER encoded public key", 400)
        if not isinstance(client_key, rsa.RSAPublicKey):
            raise ApiError("publicKey must be an RSA key", 400)
        name = request.path_params["name"]
        with self._lock:
            secret = self.secrets.get((request.path_params["ws"], name))
            if secret is None:
                raise ApiError(f"Secret {name!r} not found", 404)
            values, description = dict(secret.values), secret.description
        aes_key = AESGCM.generate_key(bit_length=256)
        iv = os.urandom(12)
        sealed = AESGCM(aes_key).encrypt(binascii.hexlify(iv), json.dumps(values).encode(), b"")
        return {
            "name": name,
            "description": description,
            "value": _b64(sealed[:-16]),
            "encryption": {
                "encryptionScheme": SCHEME,
                "encryptedAES": _b64(client_key.encrypt(aes_key, OAEP)),
                "authTag": _b64(sealed[-16:]),
                "iv": _b64(iv),
            },
        }

    async def put_secret(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = parse_json(await request.body())
        if not isinstance(body, dict):
            raise ApiError("Send a JSON object {name, description, value, encryption}", 400)
        if body.get("name") != name:
            raise ApiError("name must be the secret's name in the path", 400)
        description = body.get("description") or ""
        if not isinstance(description, str):
            raise ApiError("description must be a string", 400)
        fields = body.get("encryption")
        if not isinstance(fields, dict) or fields.get("encryptionScheme") != SCHEME:
            raise ApiError(f"encryption.encryptionScheme must be {SCHEME}", 400)
        try:
            aes_key = self._key.decrypt(_unb64(fields.get("encryptedAES"), "encryption.encryptedAES"), OAEP)
            iv = _unb64(fields.get("iv"), "encryption.iv")
            sealed = _unb64(body.get("value"), "value") + _unb64(fields.get("authTag"), "encryption.authTag")
            values = json.loads(AESGCM(aes_key).decrypt(iv, sealed, b""))
        except (InvalidTag, ValueError):
            raise ApiError("The value could not be decrypted with this Vault's public key", 400)
        if not isinstance(values, dict):
            raise ApiError("The decrypted value must be a JSON object of keys and values", 400)
        self.remember(*secret_values(values))
        with self._lock:
            self.secrets[(request.path_params["ws"], name)] = Secret(description, values)
            self.writes += 1
        return Response(status_code=204)

    def info(self) -> dict[str, Any]:
        with self._lock:
            names = sorted(name for ws, name in self.secrets if ws == self.workspace_id)
            return {"secrets": names, "writes": self.writes}
