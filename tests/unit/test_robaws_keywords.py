"""The keyword layer: names, documentation, typing, auto-connect and Secret handling."""

from __future__ import annotations

import inspect
import os
from typing import Any

import pytest
from robot.api.types import Secret

from Connectors.core.errors import ConfigurationError
from Connectors.library import collect
from Connectors.Robaws import Robaws

EXPECTED = {
    "Connect To Robaws",
    "Use Robaws Replica Mode",
    "Use Robaws Live Mode",
    "Get Robaws Rate Limit Status",
    "List Robaws Resources",
    "Get Robaws Resource",
    "Create Robaws Resource",
    "Update Robaws Resource",
    "Patch Robaws Resource",
    "Replace Robaws Resource",
    "Delete Robaws Resource",
    "Create Robaws Client",
    "List Robaws Clients",
    "Create Robaws Purchase Invoice",
    "Attach Document To Robaws Purchase Invoice",
    "Start Robaws Purchase Invoice Approval",
    "Create Robaws Sales Invoice",
    "List Robaws Sales Invoices",
    "Upload Robaws Document",
    "Register Robaws Webhook",
    "List Robaws Webhooks",
    "Delete Robaws Webhook",
    "Verify Robaws Webhook Signature",
    "Make Robaws Idempotency Key",
    "Get Robaws Suppliers By VAT Number",
    "Find Robaws Supplier By VAT Number",
    "List Robaws Client Contacts",
    "Create Robaws Client Contact",
    "List Robaws Supplier Contacts",
    "Create Robaws Supplier Contact",
    "List Robaws Supply Order Line Items",
    "Get Robaws Supply Order Line Item",
    "Update Robaws Supply Order Line Item",
    "Upload Robaws Document To Entity",
    "Get Robaws Extra Fields",
    "Sync Robaws Resources",
    "Advance Robaws Sync Checkpoint",
}


def _method(name: str) -> str:
    return name.lower().replace(" ", "_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ROBAWS_") or name.startswith("CONNECTORS_"):
            monkeypatch.delenv(name)


def test_every_keyword_is_there_typed_tagged_and_documented() -> None:
    library = Robaws()
    assert set(library.get_keyword_names()) == {_method(name) for name in EXPECTED}
    for name in EXPECTED:
        method = library.keywords[_method(name)]
        assert "robaws" in method.robot_tags, name
        doc = library.get_keyword_documentation(_method(name))
        assert "Example:" in doc and f"| {name} |" in doc, name
        signature = inspect.signature(method)
        assert signature.return_annotation is not inspect.Signature.empty, name
        for parameter in signature.parameters.values():
            assert parameter.annotation is not inspect.Parameter.empty, f"{name}: {parameter.name}"


def test_credential_arguments_are_secrets() -> None:
    hints = inspect.signature(Robaws().keywords[_method("Connect To Robaws")]).parameters
    assert "Secret" in str(hints["password"].annotation)
    assert "Secret" in str(hints["client_secret"].annotation)


def test_first_keyword_connects_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    library = Robaws()
    with pytest.raises(ConfigurationError, match="No Robaws credentials"):
        library.run_keyword(_method("Use Robaws Replica Mode"), [], {})
    monkeypatch.setenv("ROBAWS_URL", "http://127.0.0.1:9/robaws")
    monkeypatch.setenv("ROBAWS_USERNAME", "auto@robaws.test")
    monkeypatch.setenv("ROBAWS_PASSWORD", "auto-pass-1")
    library.run_keyword(_method("Use Robaws Replica Mode"), [], {})
    assert library.client.mode == "replica"
    assert library.client.auth.identity == "auto@robaws.test"


def test_connect_with_secret_password() -> None:
    library = Robaws()
    library.run_keyword(
        _method("Connect To Robaws"),
        ["http://127.0.0.1:9/robaws"],
        {"username": "u@robaws.test", "password": Secret("s3cret-pass"), "rate_limit": "3/s"},
    )
    assert library.client.throttle.status.rate == "3/s"
    assert "s3cret-pass" not in repr(library.client)


def test_webhook_secret_is_returned_as_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeClient:
        def register_webhook(self, url: str, events: list[str], key: Any) -> dict[str, Any]:
            assert events == "client.created, client.updated"  # split by the client
            return {"id": "w1", "url": url, "events": events, "secret": "whsec_123456"}

    library = Robaws()
    library._client = FakeClient()
    hook = library.run_keyword(
        _method("Register Robaws Webhook"), ["http://x/hook", "client.created, client.updated"], {}
    )
    assert isinstance(hook["secret"], Secret)
    assert hook["secret"].value == "whsec_123456"
    assert "whsec_123456" not in str(hook)


def test_list_limit_zero_means_all() -> None:
    assert collect(iter(range(3)), 0) == [0, 1, 2]
    assert collect(iter(range(3)), None) == [0, 1, 2]
    assert collect(iter(range(9)), 5) == [0, 1, 2, 3, 4]
