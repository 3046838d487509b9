"""RobawsClient without a network: query encoding, idempotency keys, errors, auth selection, and the
request sequences (paging, 204 answers, chunked uploads, replica mode) against a scripted adapter."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from Connectors import RobawsClient
from Connectors.core.auth import BasicAuth, OAuth2Auth
from Connectors.core.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from Connectors.core.webhooks import sign_timestamped
from Connectors.vendors.robaws import client as robaws_client
from Connectors.vendors.robaws.client import idempotency_key_for
from Connectors.vendors.robaws.profile import ROBAWS
from Connectors.vendors.robaws.query import build_query, encode_query, validate_json_patch


def robaws_error_message(response: requests.Response) -> str:
    return ROBAWS.error_format.read(response)


URL = "https://robaws.test"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if (
            name.startswith("ROBAWS_")
            or name.startswith("CONNECTORS_")
            or name in ("RPA_SECRET_FILE", "RC_VAULT_SECRETS_FILE", "RPA_SECRET_MANAGER", "RC_VAULT_SECRET_MANAGER")
        ):
            monkeypatch.delenv(name)


# -- a scripted HTTP server inside requests ----------------------------------------------------------
class Recorded:
    def __init__(self, request: requests.PreparedRequest) -> None:
        self.method = request.method
        parts = urlsplit(request.url or "")
        self.path = parts.path
        self.raw_query = parts.query
        self.query = dict(parse_qsl(parts.query))
        self.headers = dict(request.headers)
        self.body = request.body


Handler = Callable[[Recorded], tuple[int, Any] | tuple[int, Any, dict[str, str]]]


class FakeRobaws(BaseAdapter):
    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self.handler = handler
        self.calls: list[Recorded] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        call = Recorded(request)
        self.calls.append(call)
        result = self.handler(call)
        status, body = result[0], result[1]
        headers = result[2] if len(result) > 2 else {}  # type: ignore[misc]
        response = requests.Response()
        response.status_code = status
        response.url = request.url or ""
        response.request = request
        response._content = b"" if body is None else json.dumps(body).encode()
        response.headers.update({"Content-Type": "application/json", **headers})
        return response

    def close(self) -> None:
        return None


def make_client(handler: Handler, **kwargs: Any) -> tuple[RobawsClient, FakeRobaws]:
    adapter = FakeRobaws(handler)
    session = requests.Session()
    session.mount("https://", adapter)
    client = RobawsClient(
        URL,
        username="api@robaws.test",
        password="pw-123456",
        rate_limit="none",
        daily_quota="none",
        session=session,
        **kwargs,
    )
    return client, adapter


# -- query encoding -----------------------------------------------------------------------------------
def test_extra_field_filters_are_percent_encoded_with_brackets_and_spaces() -> None:
    pairs = build_query(extra_fields={"Contact via": "Social media", "Outdoor": True})
    assert encode_query(pairs) == ("extraFields%5BContact%20via%5D=Social%20media&extraFields%5BOutdoor%5D=true")


def test_filter_values_booleans_dates_lists_and_none() -> None:
    pairs = build_query(
        filters={"active": False, "fromDate": date(2024, 1, 31), "ids": [1, 2], "skip": None},
        sort=["name:asc", "id:desc"],
        include=["contacts", "extraFields"],
    )
    assert pairs == [
        ("active", "false"),
        ("fromDate", "2024-01-31"),
        ("ids", "1,2"),
        ("sort", "name:asc,id:desc"),
        ("include", "contacts,extraFields"),
    ]


def test_page_and_size_are_not_filters() -> None:
    with pytest.raises(ConfigurationError, match="Paging is automatic"):
        build_query(filters={"page": 2})


# -- idempotency keys ----------------------------------------------------------------------------------
def test_idempotency_key_is_stable_bounded_and_distinct() -> None:
    key = idempotency_key_for("purchase-invoice", 1001, "INV/2024/001")
    assert key == idempotency_key_for("purchase-invoice", "1001", "INV/2024/001")
    assert key.startswith("purchase-invoice-1001-INV-2024-001-")
    assert key != idempotency_key_for("purchase-invoice", 1001, "INV/2024/002")
    # Joining "a:b","c" and "a","b:c" must not collide.
    assert idempotency_key_for("a-b", "c") != idempotency_key_for("a", "b-c")
    long_key = idempotency_key_for("x" * 500, "é" * 300)
    assert len(long_key) <= 128
    assert long_key == idempotency_key_for("x" * 500, "é" * 300)


def test_idempotency_key_needs_a_business_key() -> None:
    with pytest.raises(ConfigurationError, match="at least one non-empty business key"):
        idempotency_key_for()
    with pytest.raises(ConfigurationError, match=r"non-empty business keys .* part 2 is empty"):
        idempotency_key_for("purchase-invoice", "")


def test_too_long_explicit_key_is_refused_before_sending() -> None:
    client, adapter = make_client(lambda call: (201, {"id": 1}))
    with pytest.raises(ValidationError, match="has 129 characters; Robaws takes at most 128"):
        client.create("clients", {"name": "x"}, idempotency_key="k" * 129)
    assert adapter.calls == []


# -- errors -------------------------------------------------------------------------------------------
def test_error_message_keeps_field_errors() -> None:
    response = requests.Response()
    errors = [{"field": "supplierId", "message": "must exist"}, {"field": "date", "message": "is not a date"}]
    response._content = json.dumps({"message": "Validation failed", "errors": errors}).encode()
    assert robaws_error_message(response) == "Validation failed (supplierId: must exist; date: is not a date)"


@pytest.mark.parametrize(
    ("status", "message", "error", "hint"),
    [
        (401, "Invalid username or password", AuthenticationError, "ROBAWS_USERNAME and ROBAWS_PASSWORD"),
        (403, "Your role has no access to articles", PermissionDenied, "role (or the OAuth token's scope)"),
        (404, "Unknown collection 'nope'", NotFound, "Check the collection name"),
        (405, "Replica mode is read-only", ValidationError, "Use Robaws Live Mode"),
        (413, "File is larger than 6 MB", ValidationError, "without chunked=False"),
    ],
)
def test_errors_are_one_line_with_the_cause_and_a_hint(status: int, message: str, error: type, hint: str) -> None:
    client, _ = make_client(lambda call: (status, {"message": message}))
    with pytest.raises(error) as caught:
        client.get("articles", 7)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"Robaws GET /articles/7: HTTP {status}: {message}")
    assert hint in text
    assert "pw-123456" not in text


# -- JSON patch validation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ("replace name", "must be a list of operations"),
        ([{"op": "rename", "path": "/name"}], "invalid op 'rename'"),
        ([{"op": "replace", "path": "name", "value": 1}], "invalid path 'name'"),
        ([{"op": "replace", "path": "/name"}], "(replace) has no value"),
        ([{"op": "move", "path": "/a"}], "has no 'from' path"),
        ([], "has no operations"),
    ],
)
def test_invalid_json_patch_fails_before_any_request(ops: Any, message: str) -> None:
    client, adapter = make_client(lambda call: (200, {"id": 1}))
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        client.patch("clients", 1, ops)
    assert adapter.calls == []
    assert validate_json_patch({"op": "remove", "path": "/city"}) == [{"op": "remove", "path": "/city"}]


# -- request sequences ---------------------------------------------------------------------------------
def test_list_is_lazy_and_stops_at_the_limit() -> None:
    def handler(call: Recorded) -> tuple[int, Any]:
        page, size = int(call.query["page"]), int(call.query["size"])
        items = [{"id": page * size + i} for i in range(size)]
        return 200, {"items": items, "totalItems": 1000, "currentPage": page, "size": size, "totalPages": 100}

    client, adapter = make_client(handler)
    items = client.list("clients", limit=25, page_size=10, sort="name:asc", extra_fields={"Contact via": "Web"})
    assert adapter.calls == []  # nothing is fetched before iteration
    assert [item["id"] for item in items] == list(range(25))
    assert [call.query["page"] for call in adapter.calls] == ["0", "1", "2"]
    assert "extraFields%5BContact%20via%5D=Web" in adapter.calls[0].raw_query
    assert adapter.calls[0].query["sort"] == "name:asc"


def test_small_limit_asks_for_a_small_page() -> None:
    client, adapter = make_client(lambda call: (200, {"items": [{"id": 1}, {"id": 2}], "totalPages": 9}))
    assert len(list(client.list("clients", limit=2))) == 2
    assert adapter.calls[0].query["size"] == "2"
    assert len(adapter.calls) == 1


def test_page_size_over_100_is_refused() -> None:
    client, _ = make_client(lambda call: (200, {}))
    with pytest.raises(ValidationError, match="from 1 to 100"):
        client.list("clients", page_size=101)


def test_patch_answered_with_204_reads_the_entity_back() -> None:
    def handler(call: Recorded) -> tuple[int, Any]:
        if call.method == "PATCH":
            return 204, None
        return 200, {"id": 5, "name": "New"}

    client, adapter = make_client(handler)
    assert client.update("clients", 5, {"name": "New"}) == {"id": 5, "name": "New"}
    assert adapter.calls[0].headers["Content-Type"] == "application/merge-patch+json"
    assert "Idempotency-Key" in adapter.calls[0].headers
    assert [c.method for c in adapter.calls] == ["PATCH", "GET"]


def test_json_patch_content_type() -> None:
    client, adapter = make_client(lambda call: (200, {"id": 5}))
    client.patch("clients", 5, [{"op": "replace", "path": "/name", "value": "X"}])
    assert adapter.calls[0].headers["Content-Type"] == "application/json-patch+json"
    assert json.loads(adapter.calls[0].body) == [{"op": "replace", "path": "/name", "value": "X"}]


def test_replica_mode_sends_the_header_and_counts_its_own_quota() -> None:
    client, adapter = make_client(lambda call: (200, {"id": 1}, {"X-RateLimit-Daily-Remaining": "42"}))
    client.use_replica_mode()
    client.get("clients", 1)
    client.use_live_mode()
    client.get("clients", 1)
    assert adapter.calls[0].headers["Database-Mode"] == "replica"
    assert "Database-Mode" not in adapter.calls[1].headers
    status = client.rate_limit_status()
    assert status["daily_remaining"] == {"replica": 42, "live": 42}
    assert status["mode"] == "live"


def test_a_retried_create_keeps_its_idempotency_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda _s: None)
    answers = iter([(503, {"message": "busy"}), (201, {"id": 9, "name": "ACME"})])
    client, adapter = make_client(lambda call: next(answers))
    assert client.create_client({"name": "ACME"})["id"] == 9
    keys = [call.headers["Idempotency-Key"] for call in adapter.calls]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_business_rules_checked_locally() -> None:
    client, adapter = make_client(lambda call: (201, {"id": 1}))
    with pytest.raises(ValidationError, match="needs a name"):
        client.create_client({"email": "x@y.be"})
    with pytest.raises(ValidationError, match="needs a supplierId"):
        client.create_purchase_invoice({"number": "1"})
    with pytest.raises(ValidationError, match="needs a clientId"):
        client.create_sales_invoice({"number": "1"})
    assert adapter.calls == []


def test_large_file_goes_in_parts_read_one_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(robaws_client, "MAX_UPLOAD_BYTES", 1000)
    source = tmp_path / "scan.pdf"
    data = bytes(range(256)) * 10  # 2560 bytes → 3 parts of at most 1000
    source.write_bytes(data)
    received: dict[int, bytes] = {}

    def handler(call: Recorded) -> tuple[int, Any]:
        if call.path.endswith("/temp-document-buckets"):
            return 201, {"id": "b1", "expires": "2030-01-01T00:00:00Z"}
        if call.path.endswith("/document-upload-sessions"):
            body = json.loads(call.body)
            assert body == {"fileName": "scan.pdf", "fileSize": 2560, "contentType": "application/pdf"}
            return 201, {"id": "s1", "partSize": 1000, "parts": 3}
        body = json.loads(call.body)
        received[body["partNumber"]] = base64.b64decode(body["bytesBase64"])
        return 200, {"partNumber": body["partNumber"], **({"documentId": "d1"} if len(received) == 3 else {})}

    client, adapter = make_client(handler)
    assert client.upload_document(source) == "d1"
    assert b"".join(received[i] for i in range(3)) == data
    assert max(len(part) for part in received.values()) == 1000
    assert adapter.calls[-1].path.endswith("/document-upload-sessions/s1")


def test_small_file_is_one_multipart_request(tmp_path: Path) -> None:
    source = tmp_path / "a.pdf"
    source.write_bytes(b"%PDF-1.4 tiny")

    def handler(call: Recorded) -> tuple[int, Any]:
        if call.path.endswith("/temp-document-buckets"):
            return 201, {"id": "b1"}
        assert b'name="file"; filename="a.pdf"' in call.body
        return 201, {"id": "d9"}

    client, adapter = make_client(handler)
    assert client.upload_document(source) == "d9"
    assert len(adapter.calls) == 2


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    client, _ = make_client(lambda call: (201, {"id": "b"}))
    with pytest.raises(ConfigurationError, match="does not exist"):
        client.upload_document(tmp_path / "missing.pdf")


def test_webhook_signature_verification() -> None:
    body = '{"id": "e1", "event": "client.updated", "data": {}}'
    header = sign_timestamped("whsec_abc", body)
    assert RobawsClient.verify_webhook(body, header, "whsec_abc")["event"] == "client.updated"
    with pytest.raises(AuthenticationError, match="does not match"):
        RobawsClient.verify_webhook(body, header, "whsec_other")
    stale = sign_timestamped("whsec_abc", body, timestamp=1_000_000)
    with pytest.raises(AuthenticationError, match="beyond the 300 s tolerance"):
        RobawsClient.verify_webhook(body, stale, "whsec_abc")


# -- credentials ----------------------------------------------------------------------------------------
def test_basic_auth_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBAWS_URL", "https://tenant.robaws.test/api/v2/")
    monkeypatch.setenv("ROBAWS_USERNAME", "env-user")
    monkeypatch.setenv("ROBAWS_PASSWORD", "env-pass-1")
    client = RobawsClient()
    assert isinstance(client.auth, BasicAuth) and client.auth.identity == "env-user"
    assert client.base_url == "https://tenant.robaws.test/api/v2"
    assert str(client.throttle.status.rate) == "15/s burst 20"


def test_rate_override_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBAWS_USERNAME", "u")
    monkeypatch.setenv("ROBAWS_PASSWORD", "p-12345")
    monkeypatch.setenv("ROBAWS_RATE_LIMIT", "5/s")
    monkeypatch.setenv("ROBAWS_RATE_BURST", "7")
    assert RobawsClient().throttle.status.rate == "5/s burst 7"


def test_oauth_with_token_store_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    client = RobawsClient(URL, client_id="my-app", client_secret="s3cret-value", token_store=tmp_path / "t.json")
    assert isinstance(client.auth, OAuth2Auth)
    assert client.auth.key == "robaws:my-app"
    assert client.auth.token_url == f"{URL}/oauth2/tokens"


def test_credentials_from_a_vault_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    vault = tmp_path / "vault.json"
    vault.write_text(json.dumps({"robaws": {"username": "vault-user", "password": "vault-pass-1"}}))
    monkeypatch.setenv("RPA_SECRET_FILE", str(vault))
    monkeypatch.setenv("CONNECTORS_VAULT_SECRET", "robaws")
    assert RobawsClient(URL).auth.identity == "vault-user"
    # An explicit vault_secret argument wins over ROBAWS_USERNAME.
    monkeypatch.setenv("ROBAWS_USERNAME", "env-user")
    monkeypatch.setenv("ROBAWS_PASSWORD", "env-pass-1")
    assert RobawsClient(URL, vault_secret="robaws").auth.identity == "vault-user"


def test_no_credentials_is_one_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="No Robaws credentials are configured") as caught:
        RobawsClient(URL)
    assert "ROBAWS_USERNAME" in str(caught.value)


def test_invalid_daily_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBAWS_DAILY_QUOTA", "lots")
    with pytest.raises(ConfigurationError, match="Invalid daily quota"):
        RobawsClient(URL, username="u", password="p-12345")
