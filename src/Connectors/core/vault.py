"""Credentials from the Robocorp Vault.

A local run reads the FileSecrets file directly (``RPA_SECRET_FILE`` / ``RC_VAULT_SECRETS_FILE``), so
the core needs no rpaframework; in cloud runs the installed Vault library (``robocorp.vault`` or
``RPA.Robocorp.Vault``) is used when present.
"""

from __future__ import annotations

import json
import os
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
    }
)


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


def get_secret(name: str) -> dict[str, str]:
    """The key/value pairs of Vault secret ``name``; values other than identifiers are redacted."""
    file_name = os.environ.get("RC_VAULT_SECRETS_FILE") or os.environ.get("RPA_SECRET_FILE")
    manager = os.environ.get("RC_VAULT_SECRET_MANAGER", "") + os.environ.get("RPA_SECRET_MANAGER", "")
    values: dict[str, Any] | None = None
    if file_name and (not manager or "FileSecrets" in manager):
        path = Path(file_name)
        if not path.is_file():
            raise ConfigurationError(f"Vault file {path} does not exist.", hint="Check RPA_SECRET_FILE.")
        secrets = _read_file(path)
        if name not in secrets:
            raise ConfigurationError(
                f"Vault secret {name!r} is not in {path}.",
                hint=f"Known secrets: {', '.join(sorted(secrets)) or 'none'}.",
            )
        values = dict(secrets[name])
    else:
        values = _from_vault_library(name)
    clean = {str(k): str(v) for k, v in values.items() if v is not None}
    # Identifiers stay readable in messages and links; every other value is treated as a secret.
    redactor.register(*(v for k, v in clean.items() if k.lower() not in NOT_SECRET))
    return clean


def _from_vault_library(name: str) -> dict[str, Any]:
    """Read through whichever Vault library the robot's environment has, newest first."""
    import importlib.util

    try:
        if importlib.util.find_spec("robocorp") and importlib.util.find_spec("robocorp.vault"):
            from robocorp import vault  # type: ignore[import-not-found]

            return dict(vault.get_secret(name))
        if importlib.util.find_spec("RPA") and importlib.util.find_spec("RPA.Robocorp.Vault"):
            from RPA.Robocorp.Vault import Vault  # type: ignore[import-not-found]

            return dict(Vault().get_secret(name))
    except Exception as error:  # the Vault libraries raise KeyError, their own errors, HTTP errors...
        # KeyError's text is a repr: quotes and escaped newlines around the library's message.
        message = " ".join(str(error).replace("\\n", " ").strip("\"'").split())[:300]
        raise ConfigurationError(
            f"Vault secret {name!r} could not be read: {message}",
            hint="For local runs, point RPA_SECRET_FILE at a local vault file (see devdata/vault.json).",
        )
    raise ConfigurationError(
        f"Cannot read Vault secret {name!r}: no vault file and no Vault library.",
        hint="Set RPA_SECRET_FILE to a local vault file, or install robocorp-vault in the robot's environment.",
    )
