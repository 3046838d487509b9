"""OAuth2 tokens kept in a JSON file shared by processes.

Writes are atomic (temporary file + ``os.replace``) under a ``filelock`` lock, so a robot killed
mid-write never leaves a half-written store, and several processes sharing one store refresh a
rotating refresh token exactly once: the others wait for the lock and re-read the new token.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from Connectors.core.errors import AuthenticationError, ConfigurationError
from Connectors.core.redact import redactor

# CONNECTORS_TOKEN_STORE is read by the settings resolver (the token_store setting), not here.
DEFAULT_STORE = Path.home() / ".connectors" / "tokens.json"


class TokenStore:
    def __init__(self, path: str | Path | None = None) -> None:
        # Imported here: only OAuth clients keep tokens, and recent filelock releases import sqlite3.
        from filelock import FileLock

        self.path = Path(path) if path else DEFAULT_STORE
        self.lock = FileLock(str(self.path) + ".lock", timeout=60)

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

    def get(self, key: str) -> dict[str, Any] | None:
        with self.lock:
            token = self._read_all().get(key)
        if token:
            register_token(token)
        return token

    def put(self, key: str, token: dict[str, Any]) -> None:
        register_token(token)
        token = dict(token)
        if "expires_in" in token and "expires_at" not in token:
            token["expires_at"] = time.time() + float(token["expires_in"])
        with self.lock:
            data = self._read_all()
            data[key] = token
            self._write_all(data)

    def delete(self, key: str) -> None:
        with self.lock:
            data = self._read_all()
            if data.pop(key, None) is not None:
                self._write_all(data)

    def refresh_once(
        self,
        key: str,
        stale: dict[str, Any] | None,
        needs_refresh: Callable[[dict[str, Any]], bool],
        refresh: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        force: bool = False,
    ) -> dict[str, Any]:
        """Refresh ``key``'s token unless another process already did.

        ``stale`` is the token this process holds. Under the lock the store is re-read: when it
        holds a different, still-fresh token, that one is adopted without calling the server, so a
        rotating refresh token is spent exactly once. ``force`` refreshes a token that looks fresh
        (after the server answered 401) unless another process has already replaced it.
        """
        with self.lock:
            data = self._read_all()
            current = data.get(key)
            if current is None:
                raise AuthenticationError(
                    f"No token for {key!r} in {self.path}.", hint="Log in first with 'connectors login'."
                )
            register_token(current)
            changed = stale is None or current.get("access_token") != stale.get("access_token")
            if not needs_refresh(current) and (changed or not force):
                return current
            fresh = dict(refresh(current))
            register_token(fresh)
            if "expires_in" in fresh:
                fresh["expires_at"] = time.time() + float(fresh["expires_in"])
            if "refresh_token" not in fresh and "refresh_token" in current:
                fresh["refresh_token"] = current["refresh_token"]
            data[key] = fresh
            self._write_all(data)
            return fresh


def register_token(token: dict[str, Any]) -> None:
    redactor.register(*(token.get(name) for name in ("access_token", "refresh_token", "id_token")))
