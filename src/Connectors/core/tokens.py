"""Where OAuth2 tokens live between runs, and how workers sharing one rotating token refresh it once.

``open_token_store(spec)`` reads a ``token_store`` setting (``CONNECTORS_TOKEN_STORE``):

- a file path (default ``~/.connectors/tokens.json``): a JSON file on one machine, written atomically
  under a file lock. It does not outlive a fresh environment (every Control Room run starts in one).
- ``redis://host:port/db`` (also ``rediss://``, ``unix://``): one key per token, shared by every worker
  that reaches the server; a refresh runs under a Redis lock, so exactly one worker spends the token.
- ``vault:<secret name>``: the token's fields are the keys of that Vault secret (``core.vault``: the
  Control Room Vault through the robot's Vault library, or a local vault file). Each rotation is written
  back before the new access token is used. The Vault has no lock and no compare-and-swap: the lock lives
  in the shared throttle store when there is one (``lock_store``), and without one a worker whose refresh
  the provider refuses (another worker rotated first) reads the Vault again and continues with the
  token the other worker wrote.

The refresh algorithm is written once (``TokenStore.refresh_once``); a store supplies reading, writing
and, where it can, a lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from Connectors.core.errors import AuthenticationError, ConfigurationError, ConnectorError, TransportError
from Connectors.core.redact import redactor

# CONNECTORS_TOKEN_STORE is read by the settings resolver (the token_store setting), not here.
Token = dict[str, Any]
STORE_HELP = "Use a file path, redis://host:port/db or vault:<secret name>."
GUIDE = "docs/unattended.md"
# How long a worker that lost a refresh race waits for the winner's token to appear in the store.
ROTATION_WAIT_SECONDS = 20.0
LOCK_TTL_SECONDS = 60.0  # a lock whose holder died frees itself after this
LOCK_WAIT_SECONDS = 90.0


class RefreshRefused(AuthenticationError):
    """The provider refused the refresh token (OAuth ``invalid_grant``): revoked, or already spent."""


def default_store_path() -> Path:
    # Computed per call: a fresh HOME (a new environment) means a new, empty default store.
    return Path.home() / ".connectors" / "tokens.json"


def register_token(token: Token) -> None:
    redactor.register(*(token.get(name) for name in ("access_token", "refresh_token", "id_token")))


def _with_expiry(token: Token, previous: Token | None = None) -> Token:
    token = dict(token)
    if "expires_in" in token and ("expires_at" not in token or previous is not None):
        token["expires_at"] = time.time() + float(token["expires_in"])
    if previous is not None and "refresh_token" not in token and "refresh_token" in previous:
        # A provider that does not rotate answers without a refresh token: the old one stays valid.
        token["refresh_token"] = previous["refresh_token"]
    return token


class TokenStore(ABC):
    """A place for OAuth2 tokens, one per key (``<vendor>:<client id>``)."""

    #: The store as the user names it (``token_store``), safe to show.
    spec: str = ""
    #: Where the tokens are, for messages: a path, a Redis URL without password, a Vault secret.
    location: str = ""
    #: A fresh environment (a new machine, a new Control Room run) sees the same tokens.
    outlives_environment = True

    @abstractmethod
    def _read(self, key: str) -> Token | None: ...

    @abstractmethod
    def _write(self, key: str, token: Token) -> None: ...

    @abstractmethod
    def _remove(self, key: str) -> None: ...

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[bool]:
        """Hold the store's lock for ``key``; yields whether other processes are really kept out."""
        yield False

    # -- what clients and `connectors login` use ----------------------------------------------------
    def get(self, key: str) -> Token | None:
        token = self._read(key)
        if token:
            register_token(token)
        return token or None

    def put(self, key: str, token: Token) -> None:
        register_token(token)
        with self._locked(key):
            self._write(key, _with_expiry(token))

    def delete(self, key: str) -> None:
        with self._locked(key):
            self._remove(key)

    def missing(self, key: str, login: str) -> AuthenticationError:
        """The error for a key without a token, saying how to get one."""
        hint = f"Log in with '{login} --token-store {self.spec}'."
        if not self.outlives_environment:
            hint = (
                f"Log in with '{login}'. A token file stays on the machine that logged in: in a fresh "
                f"environment (every Control Room run) it is missing, so log in once with '{login} "
                f"--token-store vault:<secret name>' and set CONNECTORS_TOKEN_STORE to the same value ({GUIDE})."
            )
        return AuthenticationError(f"No OAuth2 token stored under {key!r} in {self.location}.", hint=hint)

    def refused_hint(self, login: str) -> str:
        """What to do when the provider refuses the stored refresh token."""
        if not self.outlives_environment:
            return (
                "The provider rotates refresh tokens, and a token file copied into a fresh environment holds "
                f"one an earlier run already spent. Log in again with '{login}'; for unattended runs keep the "
                f"token where every run sees the rotation: '{login} --token-store vault:<secret name>' or "
                f"redis://host:port/db ({GUIDE})."
            )
        return f"The refresh token was revoked or expired: log in again with '{login} --token-store {self.spec}'."

    def refresh_once(
        self,
        key: str,
        stale: Token | None,
        needs_refresh: Callable[[Token], bool],
        refresh: Callable[[Token], Token],
        *,
        force: bool = False,
        login: str = "connectors login",
    ) -> Token:
        """Refresh ``key``'s token unless another process already did, and return the token to use.

        ``stale`` is the token this process holds. Under the lock the store is read again: a different,
        still-fresh token is adopted without calling the provider, so a rotating refresh token is spent
        once. ``force`` refreshes a token that looks fresh (the server answered 401) unless another
        process has already replaced it. The new token is stored before it is returned. Where the store
        cannot keep other processes out, a refresh the provider refuses means another process spent
        the token first: its successor is read from the store instead of failing.
        """
        with self._locked(key) as exclusive:
            current = self._read(key)
            if not current:
                raise self.missing(key, login)
            register_token(current)
            changed = stale is None or current.get("access_token") != stale.get("access_token")
            if not needs_refresh(current) and (changed or not force):
                return current
            try:
                fresh = _with_expiry(refresh(current), current)
            except RefreshRefused as refused:
                successor = None if exclusive else self._await_successor(key, current, needs_refresh)
                if successor is None:
                    raise refused.replace(hint=self.refused_hint(login))
                return successor
            register_token(fresh)
            try:
                self._write(key, fresh)
            except ConnectorError as error:
                # The new token is not used unless it is stored: the next run must find what this one used.
                raise error.replace(
                    message=f"The refreshed OAuth2 token was not used: {error.message}",
                    hint=f"{error.hint} The provider has rotated the token already, so log in again afterwards: "
                    f"'{login} --token-store {self.spec}'.",
                )
            return fresh

    def _await_successor(self, key: str, spent: Token, needs_refresh: Callable[[Token], bool]) -> Token | None:
        """The token that replaced ``spent`` once another process has stored it (None: nobody did)."""
        deadline = time.monotonic() + ROTATION_WAIT_SECONDS
        while True:
            current = self._read(key)
            if current and current.get("refresh_token") != spent.get("refresh_token") and not needs_refresh(current):
                register_token(current)
                return current
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.2)


class FileTokenStore(TokenStore):
    """Tokens in a JSON file: atomic writes (temporary file + ``os.replace``) under a ``filelock`` lock."""

    outlives_environment = False

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        # Imported here: only OAuth clients keep tokens, and recent filelock releases import sqlite3.
        from filelock import FileLock

        self.path = Path(path) if path else default_store_path()
        self.spec = self.location = str(self.path)
        self.lock = FileLock(str(self.path) + ".lock", timeout=LOCK_WAIT_SECONDS)

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[bool]:
        with self.lock:
            yield True

    def _read_all(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigurationError(
                f"Token store {self.path} is not valid JSON ({error.msg}).",
                hint="Delete it and log in again with 'connectors login'.",
            )
        return data if isinstance(data, dict) else {}

    def _write_all(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=str(self.path.parent))
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _read(self, key: str) -> Token | None:
        # Writes replace the file atomically: a read needs no lock.
        token = self._read_all().get(key)
        return dict(token) if isinstance(token, dict) else None

    def _write(self, key: str, token: Token) -> None:
        data = self._read_all()
        data[key] = token
        self._write_all(data)

    def _remove(self, key: str) -> None:
        data = self._read_all()
        if data.pop(key, None) is not None:
            self._write_all(data)


def _redis_client(url: str, what: str) -> Any:
    try:
        import redis
    except ImportError:
        raise ConfigurationError(
            f"The Redis {what} needs the 'redis' package.", hint="pip install 'robotframework-connectors[redis]'"
        )
    password = urlparse(url).password
    if password:
        redactor.register(password, unquote(password))
    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)


def _public_url(url: str) -> str:
    """The URL without user and password."""
    parsed = urlparse(url)
    if not (parsed.username or parsed.password or parsed.query):
        return url
    netloc = parsed.hostname or ""
    if parsed.port:
        netloc += f":{parsed.port}"
    return parsed._replace(netloc=netloc, query="").geturl()


class RedisTokenStore(TokenStore):
    """Tokens in Redis, one key each; refreshes under a Redis lock (a lock whose holder died expires)."""

    PREFIX = "connectors:oauth-token:"

    def __init__(self, url: str) -> None:
        import redis

        self._errors: tuple[type[BaseException], ...] = (redis.RedisError,)
        self.client = _redis_client(url, "token store")
        self.spec = self.location = _public_url(url)

    def _fail(self, error: BaseException) -> TransportError:
        return TransportError(
            f"The token store {self.location} is unreachable ({type(error).__name__}: {error}).",
            hint="Check that Redis runs and CONNECTORS_TOKEN_STORE names it.",
        )

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[bool]:
        with _redis_lock(self.client, self.PREFIX + key + ":lock") as exclusive:
            yield exclusive

    def _read(self, key: str) -> Token | None:
        try:
            raw = self.client.get(self.PREFIX + key)
        except self._errors as error:
            raise self._fail(error)
        if raw is None:
            return None
        token = json.loads(raw)
        return token if isinstance(token, dict) else None

    def _write(self, key: str, token: Token) -> None:
        try:
            self.client.set(self.PREFIX + key, json.dumps(token, sort_keys=True))
        except self._errors as error:
            raise self._fail(error)

    def _remove(self, key: str) -> None:
        try:
            self.client.delete(self.PREFIX + key)
        except self._errors as error:
            raise self._fail(error)


@contextlib.contextmanager
def _redis_lock(client: Any, name: str) -> Iterator[bool]:
    """A Redis lock around the block; when Redis cannot give it, the block runs without (yields False)."""
    import redis

    lock = client.lock(name, timeout=LOCK_TTL_SECONDS, blocking_timeout=LOCK_WAIT_SECONDS, thread_local=False)
    try:
        acquired = bool(lock.acquire())
    except redis.RedisError:
        acquired = False
    try:
        yield acquired
    finally:
        if acquired:
            with contextlib.suppress(redis.RedisError):
                lock.release()


# The fields of a token kept in a Vault secret. A secret's values are strings; these are numbers.
TOKEN_FIELDS = ("access_token", "refresh_token", "token_type", "scope", "expires_in", "expires_at", "obtained_at")
NUMERIC_FIELDS = frozenset({"expires_in", "expires_at", "obtained_at"})
KEY_FIELD = "token_key"  # whose token the secret holds: ``<vendor>:<client id>``


class VaultTokenStore(TokenStore):
    """A token in the keys of one Vault secret (other keys of the secret, such as the client id, are kept)."""

    def __init__(self, secret: str, lock_store: str | None = None) -> None:
        from Connectors.core import vault

        self.secret = secret
        self.spec = f"vault:{secret}"
        self.location = f"Vault secret {secret!r} ({vault.vault_location()})"
        self._lock_store = lock_store or ""
        local = vault.local_vault_file()
        self._file_lock_path = str(local) + ".tokens.lock" if local is not None else ""

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[bool]:
        kind = urlparse(self._lock_store).scheme if "://" in self._lock_store else ""
        if kind in ("redis", "rediss", "unix"):
            client = _redis_client(self._lock_store, "lock")
            try:
                with _redis_lock(client, f"connectors:oauth-token-lock:{self.secret}") as exclusive:
                    yield exclusive
            finally:
                client.close()
            return
        path = self._file_lock_path
        if kind == "sqlite":
            # Beside the throttle's database, not in it: a refresh waits on the token endpoint, and the
            # throttle's transactions must not wait behind it.
            parsed = urlparse(self._lock_store)
            path = (unquote(parsed.netloc + parsed.path) if parsed.netloc else unquote(parsed.path)) + ".tokens.lock"
        if path:
            from filelock import FileLock

            with FileLock(path, timeout=LOCK_WAIT_SECONDS):
                yield True
            return
        yield False

    def _values(self) -> dict[str, str] | None:
        from Connectors.core import vault

        return vault.read_secret(self.secret)

    def _read(self, key: str) -> Token | None:
        values = self._values()
        if not values or not values.get("access_token"):
            return None
        owner = values.get(KEY_FIELD)
        if owner and owner != key:
            raise self._other_owner(owner, key)
        token: Token = {}
        for name in TOKEN_FIELDS:
            if values.get(name):
                token[name] = float(values[name]) if name in NUMERIC_FIELDS else values[name]
        return token

    def _other_owner(self, owner: str, key: str) -> ConfigurationError:
        return ConfigurationError(
            f"Vault secret {self.secret!r} holds the OAuth2 token of {owner!r}, not of {key!r}.",
            hint="Use one Vault secret per OAuth client (vault:<another secret name>).",
        )

    def _write(self, key: str, token: Token) -> None:
        from Connectors.core import vault

        values = self._values() or {}
        owner = values.get(KEY_FIELD)
        if owner and owner != key and values.get("access_token"):
            raise self._other_owner(owner, key)
        # Keys the robot keeps beside the token (a client id, say) stay; the token's own are replaced.
        kept = {k: v for k, v in values.items() if k not in TOKEN_FIELDS and k != KEY_FIELD}
        fields = {name: _vault_text(token[name]) for name in TOKEN_FIELDS if token.get(name) is not None}
        vault.write_secret(self.secret, {**kept, **fields, KEY_FIELD: key}, "OAuth2 token kept by connectors login")

    def _remove(self, key: str) -> None:
        from Connectors.core import vault

        values = self._values()
        if values and values.get(KEY_FIELD, key) == key:
            kept = {k: v for k, v in values.items() if k not in TOKEN_FIELDS and k != KEY_FIELD}
            vault.write_secret(self.secret, kept)


def _vault_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return " ".join(str(item) for item in value)  # scopes
    return json.dumps(value)


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://")


def open_token_store(spec: str | os.PathLike[str] | None, *, lock_store: str | None = None) -> TokenStore:
    """The token store a ``token_store`` value names (None or empty: the default file).

    ``lock_store`` is the shared throttle store (``CONNECTORS_THROTTLE_STORE``): the Vault store keeps
    its refresh lock there, since the Vault has none.
    """
    if spec is None or isinstance(spec, os.PathLike):
        return FileTokenStore(spec)
    text = spec.strip()
    if not text:
        return FileTokenStore()
    if text.lower().startswith("vault:"):
        secret = text[len("vault:") :].strip()
        if not secret or "/" in secret:
            raise ConfigurationError(
                f"Token store {text!r} names no Vault secret.", hint="Use vault:<secret name>, e.g. vault:robaws_oauth."
            )
        return VaultTokenStore(secret, lock_store)
    match = _SCHEME.match(text)
    if match is None:
        return FileTokenStore(text)
    scheme = match.group(1).lower()
    if scheme in ("redis", "rediss", "unix"):
        return RedisTokenStore(text)
    if scheme == "file":
        return FileTokenStore(unquote(urlparse(text).path))
    raise ConfigurationError(f"Unknown token store {_public_url(text)!r}.", hint=STORE_HELP)
