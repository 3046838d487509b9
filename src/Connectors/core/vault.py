"""Secrets from the robot's Vault: read credentials, and write back what a robot must keep (OAuth tokens).

Two places hold them, chosen by the variables the Vault libraries read:

- a local vault file (``RPA_SECRET_FILE`` / ``RC_VAULT_SECRETS_FILE``, JSON or YAML), read and written
  here directly, so a local run needs no Vault library;
- otherwise the Vault the robot's own library talks to (``robocorp.vault`` or ``RPA.Robocorp.Vault``,
  newest first): in a Control Room run, or on a developer's machine with ``RC_API_SECRET_HOST``,
  ``RC_API_SECRET_TOKEN`` and ``RC_WORKSPACE_ID``.

The Vault's HTTP protocol (its encryption, its key exchange) is deliberately not copied here: the
vendor's unmodified clients speak it, so what works for ``Get Secret`` in a robot works for the
connectors, and the core stays free of one platform's wire format.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from Connectors.core.errors import ConfigurationError
from Connectors.core.redact import redactor

# Keys of a Vault secret whose values identify rather than authenticate.
NOT_SECRET = frozenset(
    {
        "url",
        "username",
        "user",
        "email",
        "client_id",
        "workspace_id",
        "workspace",
        "organization",
        "app_uuid",
        "process_id",
        "subdomain",
        "space",
        # An OAuth2 token's fields beside the tokens themselves (a token store in the Vault).
        "token_key",
        "token_type",
        "scope",
        "expires_in",
        "expires_at",
        "obtained_at",
    }
)
LIBRARY_HINT = "For local runs, point RPA_SECRET_FILE at a local vault file (see devdata/vault.json)."


class VaultWriteError(ConfigurationError):
    """The Vault refused or failed a write; the secret keeps its previous values."""


def local_vault_file() -> Path | None:
    """The local vault file the Vault libraries would use, or None when they would call the Vault API."""
    file_name = os.environ.get("RC_VAULT_SECRETS_FILE") or os.environ.get("RPA_SECRET_FILE")
    manager = os.environ.get("RC_VAULT_SECRET_MANAGER", "") + os.environ.get("RPA_SECRET_MANAGER", "")
    if file_name and (not manager or "FileSecrets" in manager):
        return Path(file_name)
    return None


def vault_location() -> str:
    """Where secrets are read and written, for messages."""
    path = local_vault_file()
    if path is not None:
        return f"the local vault file {path}"
    host = os.environ.get("RC_API_SECRET_HOST")
    return f"the Vault at {host}" if host else "the Vault"


def _read_file(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError:
            raise ConfigurationError(
                f"Vault file {path} is YAML but PyYAML is not installed.",
                hint="pip install pyyaml, or use a JSON vault file.",
            )
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    return data if isinstance(data, dict) else {}


def _write_file(path: Path, data: dict[str, Any]) -> None:
    """Replace the vault file atomically: a run killed mid-write leaves the previous file."""
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(data, sort_keys=True)
    else:
        text = json.dumps(data, indent=4, sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=".vault-", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_secret(name: str) -> dict[str, str] | None:
    """The key/value pairs of Vault secret ``name``, or None when the Vault has no such secret.

    Values other than identifiers are registered with the redactor.
    """
    path = local_vault_file()
    if path is not None:
        if not path.is_file():
            raise ConfigurationError(f"Vault file {path} does not exist.", hint="Check RPA_SECRET_FILE.")
        secrets = _read_file(path)
        values = secrets.get(name)
        if values is None:
            return None
    else:
        values = _library().read(name)
        if values is None:
            return None
    clean = {str(k): str(v) for k, v in dict(values).items() if v is not None}
    # Identifiers stay readable in messages and links; every other value is treated as a secret.
    redactor.register(*(v for k, v in clean.items() if k.lower() not in NOT_SECRET))
    return clean


def get_secret(name: str) -> dict[str, str]:
    """The key/value pairs of Vault secret ``name``; values other than identifiers are redacted."""
    values = read_secret(name)
    if values is None:
        path = local_vault_file()
        known = ", ".join(sorted(_read_file(path))) if path is not None else ""
        raise ConfigurationError(
            f"Vault secret {name!r} is not in {vault_location()}.",
            hint=f"Known secrets: {known or 'none'}." if path is not None else "Create it in the Vault first.",
        )
    return values


def write_secret(name: str, values: Mapping[str, str], description: str = "") -> None:
    """Replace all keys of Vault secret ``name`` (creating it when missing), as the Vault's write does.

    Raises ``VaultWriteError`` (one line) when the write fails; the secret then keeps its old values.
    """
    redactor.register(*(v for k, v in values.items() if k.lower() not in NOT_SECRET))
    path = local_vault_file()
    if path is None:
        _library().write(name, dict(values), description)
        return
    from filelock import FileLock

    try:
        with FileLock(str(path) + ".lock", timeout=60):
            data = _read_file(path) if path.exists() else {}
            data[name] = dict(values)
            _write_file(path, data)
    except OSError as error:
        raise VaultWriteError(
            f"Vault secret {name!r} could not be written to {path} ({error.strerror or error}).",
            hint="Check that the file and its folder are writable.",
        )


class _VaultLibrary:
    """The robot's Vault library, newest first; one instance per process (each makes an RSA key pair)."""

    def __init__(self) -> None:
        import importlib.util

        self.kind = ""
        if importlib.util.find_spec("robocorp") and importlib.util.find_spec("robocorp.vault"):
            self.kind = "robocorp.vault"
        elif importlib.util.find_spec("RPA") and importlib.util.find_spec("RPA.Robocorp.Vault"):
            self.kind = "RPA.Robocorp.Vault"
        self._rpa: Any = None
        self._descriptions: dict[str, str] = {}

    def _require(self, name: str) -> None:
        if not self.kind:
            raise ConfigurationError(
                f"Cannot reach Vault secret {name!r}: no vault file and no Vault library.",
                hint="Set RPA_SECRET_FILE to a local vault file, or install robocorp-vault in the robot's environment.",
            )

    def _rpa_vault(self) -> Any:
        if self._rpa is None:
            from RPA.Robocorp.Vault import Vault  # type: ignore[import-not-found]

            self._rpa = Vault()
        return self._rpa

    def read(self, name: str) -> dict[str, Any] | None:
        self._require(name)
        try:
            if self.kind == "robocorp.vault":
                from robocorp import vault  # type: ignore[import-not-found]

                secret = vault.get_secret(name)
            else:
                secret = self._rpa_vault().get_secret(name)
        except Exception as error:  # the Vault libraries raise KeyError, their own errors, HTTP errors...
            if _status(error) == 404:
                return None
            raise ConfigurationError(f"Vault secret {name!r} could not be read: {_message(error)}", hint=LIBRARY_HINT)
        self._descriptions[name] = str(getattr(secret, "description", "") or "")
        return dict(secret)

    def write(self, name: str, values: dict[str, str], description: str) -> None:
        self._require(name)
        description = description or self._descriptions.get(name, "")
        try:
            if self.kind == "robocorp.vault":
                from robocorp import vault

                vault.set_secret(vault.SecretContainer(name=name, description=description, values=values))
            else:
                from RPA.Robocorp.Vault import Secret  # type: ignore[import-not-found]

                self._rpa_vault().set_secret(Secret(name, description, values))
        except Exception as error:
            status = _status(error)
            reason = f"HTTP {status}: " if status else ""
            raise VaultWriteError(
                f"Vault secret {name!r} could not be written ({reason}{_message(error)}); "
                "it keeps its previous values.",
                hint="The robot's Vault token needs write access to this secret."
                if status == 403
                else "Check the Vault variables RC_API_SECRET_HOST, RC_API_SECRET_TOKEN and RC_WORKSPACE_ID.",
            )
        self._descriptions[name] = description


_LIBRARY: _VaultLibrary | None = None


def _library() -> _VaultLibrary:
    global _LIBRARY
    if _LIBRARY is None:
        _LIBRARY = _VaultLibrary()
    return _LIBRARY


def _status(error: BaseException) -> int | None:
    """The HTTP status behind a Vault library's error (they wrap ``requests`` errors differently)."""
    seen: BaseException | None = error
    while seen is not None:
        status = getattr(seen, "status_code", None)
        response = getattr(seen, "response", None)
        if status is None and response is not None:
            status = getattr(response, "status_code", None)
        if isinstance(status, int):
            return status
        seen = seen.__cause__ or seen.__context__
    return None


def _message(error: BaseException) -> str:
    # KeyError's text is a repr: quotes and escaped newlines around the library's message. RPA's
    # RobocorpVaultError is raised empty from the HTTP error, which then says what happened.
    text = str(error) or str(error.__cause__ or "") or type(error).__name__
    # requests names the URL, whose query is the client's key: long, and no help to the reader.
    text = re.sub(r" for url: \S+", "", text)
    return " ".join(text.replace("\\n", " ").strip("\"'").split())[:300]
