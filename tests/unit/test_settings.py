"""One order for every connector's settings: argument → named Vault secret → variable → shared Vault secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from robot.api.types import Secret

from Connectors.core.redact import redactor
from Connectors.vendors.base import Setting, layered_settings


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "vault.json"
    path.write_text(
        json.dumps(
            {
                "named": {"workspace_id": "ws-named", "API_KEY": "key-from-named-vault"},
                "shared": {"workspace_id": "ws-shared", "api_key": "key-from-shared-vault", "url": "https://shared"},
            }
        )
    )
    for name in (
        "RPA_SECRET_MANAGER",
        "RC_VAULT_SECRET_MANAGER",
        "RC_VAULT_SECRETS_FILE",
        "CONNECTORS_VAULT_SECRET",
        "X_WORKSPACE",
        "X_KEY",
        "X_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RPA_SECRET_FILE", str(path))
    return path


def settings(workspace: object = None, key: object = None) -> dict[str, Setting]:
    return {
        "workspace_id": Setting(workspace, "X_WORKSPACE", ("workspace_id",)),
        "api_key": Setting(key, "X_KEY", ("api_key",), secret=True),
        "url": Setting(None, "X_URL", ("url",), required=False),
    }


def test_argument_then_named_vault_then_variable(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_WORKSPACE", "ws-env")
    monkeypatch.setenv("X_KEY", "key-from-environment")
    assert layered_settings(settings(), None) == {
        "workspace_id": "ws-env",
        "api_key": "key-from-environment",
        "url": None,
    }
    assert layered_settings(settings(), "named")["api_key"] == "key-from-named-vault"  # any key case
    chosen = layered_settings(settings("ws-arg", Secret("key-from-argument")), "named")
    assert chosen["workspace_id"] == "ws-arg" and chosen["api_key"] == "key-from-argument"
    assert redactor.redact("key-from-argument") == "***"


def test_shared_vault_secret_fills_only_what_is_missing(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTORS_VAULT_SECRET", "shared")
    monkeypatch.setenv("X_WORKSPACE", "ws-env")
    values = layered_settings(settings(), None)
    assert values == {"workspace_id": "ws-env", "api_key": "key-from-shared-vault", "url": "https://shared"}
    # Nothing required is missing: the shared secret is not read at all (it may belong to another vendor).
    monkeypatch.setenv("CONNECTORS_VAULT_SECRET", "no-such-secret")
    monkeypatch.setenv("X_KEY", "key-from-environment")
    assert layered_settings(settings(), None)["url"] is None
