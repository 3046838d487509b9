from __future__ import annotations

import logging

import pytest
from robot.api.types import Secret

from Connectors.core.config import secret_value
from Connectors.core.errors import AuthenticationError
from Connectors.core.redact import redactor


def test_registered_secrets_are_masked_everywhere(caplog) -> None:
    secret_value(Secret("s3cr3t-value-123"))
    assert redactor.redact("password is s3cr3t-value-123!") == "password is ***!"
    error = AuthenticationError("server echoed s3cr3t-value-123", vendor="V", status=401)
    assert "s3cr3t-value-123" not in str(error)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("urllib3.connectionpool").debug("body %s", "x=s3cr3t-value-123")
    assert "s3cr3t-value-123" not in caplog.text


def test_credential_fields_are_masked_even_when_unregistered(caplog) -> None:
    text = 'grant_type=refresh_token&refresh_token=abc123&client_secret=zzz "access_token": "tok-999"'
    redacted = redactor.redact(text)
    assert "abc123" not in redacted and "zzz" not in redacted and "tok-999" not in redacted
    assert redactor.redact("Authorization: RC-WSKEY key-123") == "Authorization: ***"
    assert redactor.redact("GET /runs?token=abcdef HTTP/1.1").startswith("GET /runs?token=***")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("requests_oauthlib.oauth2_session").debug(
            "Prepared refresh token request body %s", "refresh_token=rt-77&client_secret=cs-88"
        )
    assert "rt-77" not in caplog.text and "cs-88" not in caplog.text


def test_error_is_one_line_with_vendor_status_and_hint() -> None:
    error = AuthenticationError(
        "bad\ncredentials",
        vendor="Robaws",
        method="GET",
        path="/api/v2/clients",
        status=401,
        vendor_message="Bad credentials",
    )
    text = str(error)
    assert "\n" not in text
    assert text.startswith("Robaws GET /api/v2/clients: HTTP 401: bad credentials")
    assert "Check the credentials" in text


def test_vault_file_secret_is_read_and_registered(tmp_path, monkeypatch) -> None:
    import json

    from Connectors.core.vault import get_secret

    vault = tmp_path / "vault.json"
    vault.write_text(json.dumps({"acme": {"username": "u", "password": "vault-pass-4711"}}))
    monkeypatch.setenv("RPA_SECRET_FILE", str(vault))
    monkeypatch.delenv("RPA_SECRET_MANAGER", raising=False)
    monkeypatch.delenv("RC_VAULT_SECRET_MANAGER", raising=False)
    monkeypatch.delenv("RC_VAULT_SECRETS_FILE", raising=False)
    assert get_secret("acme")["password"] == "vault-pass-4711"
    assert redactor.redact("x vault-pass-4711 y") == "x *** y"
    import pytest

    from Connectors.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"Vault secret 'other' is not in .*Known secrets: acme"):
        get_secret("other")


def test_secrets_are_given_to_robocorp_log_when_it_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """robocorp.tasks traces library calls (requests' headers included) into its own log: it must hide them."""
    import sys
    import types

    from Connectors.core.redact import Redactor

    hidden: list[str] = []
    fake = types.ModuleType("robocorp.log")
    fake.hide_from_output = hidden.append  # type: ignore[attr-defined]
    redactor = Redactor()
    redactor.register("registered-before-robocorp-log")
    assert hidden == []
    monkeypatch.setitem(sys.modules, "robocorp.log", fake)
    redactor.register("YXBpOnNlY3JldC1wYXNzd29yZA==")
    assert sorted(hidden) == ["YXBpOnNlY3JldC1wYXNzd29yZA==", "registered-before-robocorp-log"]
    redactor.register("YXBpOnNlY3JldC1wYXNzd29yZA==")
    assert len(hidden) == 2  # each secret once
