"""Protocol tests of the Robaws sandbox with plain ``requests`` (no connector client involved)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import pytest
import requests
from requests.auth import HTTPBasicAuth

from connectors_sandbox.server import SandboxProcess

SIX_MB = 6 * 1024 * 1024


@pytest.fixture
def base(sandbox: SandboxProcess) -> str:
    return sandbox.vendor_url("robaws") + "/api/v2"


@pytest.fixture
def fast(sandbox: SandboxProcess) -> SandboxProcess:
    """A sandbox whose rate limits are high enough that a test of other behaviour never meets a 429."""
    sandbox.configure(rate_scale=50, reset=True)
    return sandbox


@pytest.fixture
def admin(sandbox: SandboxProcess) -> requests.Session:
    session = requests.Session()
    session.auth = HTTPBasicAuth(os.environ["ROBAWS_USERNAME"], os.environ["ROBAWS_PASSWORD"])
    return session


@pytest.fixture
def limited(sandbox: SandboxProcess) -> requests.Session:
    session = requests.Session()
    session.auth = HTTPBasicAuth(os.environ["ROBAWS_LIMITED_USERNAME"], os.environ["ROBAWS_LIMITED_PASSWORD"])
    return session


def _all(session: requests.Session, url: str, **params: Any) -> list[dict[str, Any]]:
    response = session.get(url, params={"size": 100, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totalPages"] <= 1
    return list(body["items"])


# -- authentication and authorization --------------------------------------------------------------
def test_missing_and_wrong_credentials_are_401_json(base: str) -> None:
    missing = requests.get(f"{base}/clients")
    wrong = requests.get(f"{base}/clients", auth=(os.environ["ROBAWS_USERNAME"], "wrong-password"))
    bearer = requests.get(f"{base}/clients", headers={"Authorization": "Bearer not-a-token"})
    for response in (missing, wrong, bearer):
        assert response.status_code == 401
        assert response.json()["message"]
        assert "X-RateLimit-Remaining" in response.headers


def test_limited_role_reaches_only_clients(base: str, limited: requests.Session) -> None:
    assert limited.get(f"{base}/clients").status_code == 200
    denied = limited.get(f"{base}/articles")
    assert denied.status_code == 403
    assert denied.json()["message"] == "Your role has no access to articles"
    assert limited.post(f"{base}/temp-document-buckets").status_code == 403
    hooks = limited.post(
        f"{base}/webhook-endpoints", json={"url": "http://127.0.0.1:9/h", "events": ["client.created"]}
    )
    assert hooks.status_code == 403


def test_unknown_collection_and_id_are_404(base: str, admin: requests.Session) -> None:
    unknown = admin.get(f"{base}/spaceships")
    assert unknown.status_code == 404
    assert unknown.json() == {"message": "Unknown collection 'spaceships'"}
    assert admin.get(f"{base}/clients/999999").status_code == 404


# -- paging, sorting, include, filters -------------------------------------------------------------
def test_paging_envelope_defaults_and_limits(base: str, admin: requests.Session) -> None:
    first = admin.get(f"{base}/clients").json()
    assert (first["currentPage"], first["size"], len(first["items"])) == (0, 10, 10)
    assert first["totalItems"] == 35 and first["totalPages"] == 4
    last = admin.get(f"{base}/clients", params={"page": 3, "size": 10}).json()
    assert len(last["items"]) == 5 and last["currentPage"] == 3
    ids = [c["id"] for page in range(4) for c in admin.get(f"{base}/clients", params={"page": page}).json()["items"]]
    assert len(set(ids)) == 35 and min(ids) == 1001
    assert admin.get(f"{base}/clients", params={"page": 9}).json()["items"] == []
    for size in (0, 101, "ten"):
        assert admin.get(f"{base}/clients", params={"size": size}).status_code == 400
    assert len(admin.get(f"{base}/clients", params={"size": 100}).json()["items"]) == 35


def test_sort_by_several_fields(base: str, admin: requests.Session) -> None:
    items = _all(admin, f"{base}/employees", sort="function:asc,surname:desc")
    keys = [(e["function"], e["surname"]) for e in items]
    by_function = sorted(keys, key=lambda k: k[0])
    assert [k[0] for k in keys] == [k[0] for k in by_function]
    for function in {k[0] for k in keys}:
        surnames = [s for f, s in keys if f == function]
        assert surnames == sorted(surnames, key=str.lower, reverse=True)
    assert admin.get(f"{base}/employees", params={"sort": "surname:sideways"}).status_code == 400


def test_include_embeds_references_and_extra_fields(base: str, admin: requests.Session) -> None:
    plain = admin.get(f"{base}/sales-invoices", params={"size": 3}).json()["items"]
    assert all("client" not in invoice for invoice in plain)
    embedded = admin.get(f"{base}/sales-invoices", params={"size": 3, "include": "client"}).json()["items"]
    for invoice in embedded:
        assert invoice["client"]["id"] == invoice["clientId"]
        assert "extraFields" not in invoice["client"]
    clients = _all(admin, f"{base}/clients")
    assert all("extraFields" not in c and "contacts" not in c for c in clients)
    with_extras = _all(admin, f"{base}/clients", include="extraFields,contacts")
    assert any(c.get("extraFields", {}).get("Contact via") for c in with_extras)
    assert all(isinstance(c["contacts"], list) for c in with_extras)
    one = admin.get(f"{base}/clients/{with_extras[0]['id']}", params={"include": "contacts"}).json()
    assert one["contacts"] == with_extras[0]["contacts"]


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("Brand", "Daikin", "stringValue"),
        ("Outdoor", "true", "booleanValue"),
        ("Outdoor", "false", "booleanValue"),
        ("Warranty years", "5", "integerValue"),
        ("Introduced", "2021-02-11", "dateValue"),
    ],
)
def test_extra_field_filters_with_encoded_brackets(
    base: str, fast: SandboxProcess, admin: requests.Session, field: str, value: str, key: str
) -> None:
    everything = _all(admin, f"{base}/articles", include="extraFields")
    expected = {a["id"] for a in everything if str(a["extraFields"][field][key]).lower() == value.lower()}
    assert expected, "the demo data must contain a match"
    # Brackets and the space percent-encoded exactly as the vendor's article shows.
    url = f"{base}/articles?size=100&{quote(f'extraFields[{field}]', safe='')}={quote(value)}"
    assert "%5B" in url and "%5D" in url
    found = admin.get(url)
    assert found.status_code == 200, found.text
    assert {a["id"] for a in found.json()["items"]} == expected
    assert all("extraFields" not in a for a in found.json()["items"])


def test_extra_field_filter_text_decimal_and_unknown(base: str, fast: SandboxProcess, admin: requests.Session) -> None:
    via = _all(admin, f"{base}/clients", **{"extraFields[Contact via]": "Social media"})
    assert via and len(via) < 35
    articles = _all(admin, f"{base}/articles", include="extraFields")
    weight = articles[3]["extraFields"]["Weight kg"]["decimalValue"]
    heavy = _all(admin, f"{base}/articles", **{"extraFields[Weight kg]": str(weight)})
    assert articles[3]["id"] in {a["id"] for a in heavy}
    assert _all(admin, f"{base}/articles", **{"extraFields[No such field]": "x"}) == []


def test_documented_filters_are_honoured_and_others_ignored(
    base: str, fast: SandboxProcess, admin: requests.Session
) -> None:
    """Over HTTP as a client sends them (tests/unit/test_robaws_sandbox_fidelity.py says which and why)."""
    invoices = _all(admin, f"{base}/sales-invoices")
    credit = _all(admin, f"{base}/sales-invoices", type="CREDIT_NOTE")
    assert credit and {i["id"] for i in credit} == {i["id"] for i in invoices if i["type"] == "CREDIT_NOTE"}
    pivot = sorted(i["updatedAt"] for i in invoices)[6]
    recent = _all(admin, f"{base}/sales-invoices", updatedFrom=pivot)
    assert {i["id"] for i in recent} == {i["id"] for i in invoices if i["updatedAt"] >= pivot}
    purchase = _all(admin, f"{base}/purchase-invoices")
    assert _all(admin, f"{base}/purchase-invoices", supplierId=purchase[0]["supplierId"]) == purchase
    clients = _all(admin, f"{base}/clients")
    assert _all(admin, f"{base}/clients", name="Hotel Aurora") == clients
    assert _all(admin, f"{base}/clients", noSuchField="x") == clients
    assert admin.get(f"{base}/clients%2F1001%2Fcontacts").status_code == 400


# -- writes ----------------------------------------------------------------------------------------
def test_create_replace_delete_and_validation(base: str, fast: SandboxProcess, admin: requests.Session) -> None:
    nameless = admin.post(f"{base}/clients", json={"email": "x@example.com"})
    assert nameless.status_code == 400
    assert nameless.json()["errors"][0]["field"] == "name"
    orphan = admin.post(f"{base}/sales-invoices", json={"clientId": 1})
    assert orphan.status_code == 400 and orphan.json()["errors"][0]["field"] == "clientId"
    assert admin.post(f"{base}/purchase-invoices", json={"number": "X"}).json()["errors"][0]["field"] == "supplierId"
    broken = admin.post(f"{base}/clients", data=b'{"name": ', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and "JSON" in broken.json()["message"]

    created = admin.post(f"{base}/clients", json={"name": "Nieuwe Klant", "city": "Gent", "id": 5})
    assert created.status_code == 201
    client = created.json()
    assert client["id"] > 1001 and client["id"] != 5 and client["createdAt"] == client["updatedAt"]
    datetime.fromisoformat(client["createdAt"].replace("Z", "+00:00"))
    invoice = admin.post(f"{base}/sales-invoices", json={"clientId": client["id"], "date": "2025-01-02"}).json()
    assert invoice["type"] == "INVOICE"

    replaced = admin.put(f"{base}/clients/{client['id']}", json={"name": "Renamed"})
    assert replaced.status_code == 200
    assert replaced.json()["name"] == "Renamed" and "city" not in replaced.json()
    assert replaced.json()["createdAt"] == client["createdAt"]
    assert admin.delete(f"{base}/clients/{client['id']}").status_code == 204
    assert admin.get(f"{base}/clients/{client['id']}").status_code == 404


def test_merge_patch(base: str, fast: SandboxProcess, admin: requests.Session) -> None:
    employee = _all(admin, f"{base}/employees")[0]
    patched = admin.patch(
        f"{base}/employees/{employee['id']}",
        data=json.dumps({"surname": "Van Robaeys", "function": None}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["surname"] == "Van Robaeys" and "function" not in body and body["name"] == employee["name"]
    article = _all(admin, f"{base}/articles", include="extraFields")[0]
    admin.patch(
        f"{base}/articles/{article['id']}",
        data=json.dumps({"extraFields": {"Brand": {"stringValue": "Other"}}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    after = admin.get(f"{base}/articles/{article['id']}", params={"include": "extraFields"}).json()
    assert after["extraFields"]["Brand"] == {"stringValue": "Other"}
    assert after["extraFields"]["Outdoor"] == article["extraFields"]["Outdoor"]
    plain = admin.patch(f"{base}/employees/{employee['id']}", json={"surname": "X"})
    assert plain.status_code == 415


def test_json_patch_valid_and_invalid(base: str, fast: SandboxProcess, admin: requests.Session) -> None:
    employee = _all(admin, f"{base}/employees")[1]
    url = f"{base}/employees/{employee['id']}"
    headers = {"Content-Type": "application/json-patch+json"}
    ops = [
        {"op": "replace", "path": "/surname", "value": "Van Robaeys"},
        {"op": "add", "path": "/nickname", "value": "Robbie"},
    ]
    ok = admin.patch(url, data=json.dumps(ops), headers=headers)
    assert ok.status_code == 200, ok.text
    assert (ok.json()["surname"], ok.json()["nickname"]) == ("Van Robaeys", "Robbie")
    for bad in (
        [{"op": "test", "path": "/surname", "value": "Nope"}],
        [{"op": "replace", "path": "/no/such/path", "value": 1}],
        [{"op": "frobnicate", "path": "/surname"}],
        {"op": "replace"},
    ):
        response = admin.patch(url, data=json.dumps(bad), headers=headers)
        assert response.status_code == 400, bad
        assert response.json()["message"].startswith("Invalid JSON patch")
    assert admin.get(url).json()["surname"] == "Van Robaeys"


# -- idempotency -------------------------------------------------------------------------------------
def test_idempotency_replays_only_successes(base: str, fast: SandboxProcess, admin: requests.Session) -> None:
    before = admin.get(f"{base}/clients").json()["totalItems"]
    first = admin.post(f"{base}/clients", json={"name": "Once"}, headers={"Idempotency-Key": "order-42"})
    again = admin.post(f"{base}/clients", json={"name": "Twice"}, headers={"Idempotency-Key": "order-42"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert admin.get(f"{base}/clients").json()["totalItems"] == before + 1
    assert fast.stats()["robaws"]["idempotent_replays"] == 1

    failed = admin.post(f"{base}/clients", json={}, headers={"Idempotency-Key": "retry-me"})
    assert failed.status_code == 400
    fixed = admin.post(f"{base}/clients", json={"name": "Fixed"}, headers={"Idempotency-Key": "retry-me"})
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers

    too_long = admin.post(f"{base}/clients", json={"name": "Long"}, headers={"Idempotency-Key": "k" * 129})
    assert too_long.status_code == 400
    assert admin.post(f"{base}/clients", json={"name": "Max"}, headers={"Idempotency-Key": "k" * 128}).ok
    # Keys belong to one credential: another user's request with the same key is a new request.
    other = requests.post(
        f"{base}/clients",
        json={"name": "Other user"},
        headers={"Idempotency-Key": "order-42"},
        auth=(os.environ["ROBAWS_LIMITED_USERNAME"], os.environ["ROBAWS_LIMITED_PASSWORD"]),
    )
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_idempotency_conflict_while_in_flight(base: str, fast: SandboxProcess, admin: requests.Session) -> None:
    released = threading.Event()
    result: dict[str, requests.Response] = {}

    def slow_body() -> Iterator[bytes]:
        yield b'{"name": '
        released.wait(10)
        yield b'"Slow client"}'

    def send_slowly() -> None:
        result["slow"] = requests.post(
            f"{base}/clients",
            data=slow_body(),
            auth=admin.auth,
            headers={"Idempotency-Key": "in-flight", "Content-Type": "application/json"},
        )

    thread = threading.Thread(target=send_slowly)
    thread.start()
    try:
        # The slow request's headers reach the server at once; its body is still incomplete.
        time.sleep(1.0)
        conflict = admin.post(f"{base}/clients", json={"name": "Fast"}, headers={"Idempotency-Key": "in-flight"})
        assert conflict.status_code == 409, conflict.text
        assert conflict.json() == {"message": "A request with this Idempotency-Key is in progress"}
    finally:
        released.set()
        thread.join(15)
    assert result["slow"].status_code == 201
    replay = admin.post(f"{base}/clients", json={"name": "Fast"}, headers={"Idempotency-Key": "in-flight"})
    assert replay.json() == result["slow"].json() and replay.headers["Idempotent-Replayed"] == "true"


# -- modes and limits ----------------------------------------------------------------------------------
def test_replica_mode_is_read_only(base: str, fast: SandboxProcess, admin: requests.Session) -> None:
    read = admin.get(f"{base}/clients", headers={"Database-Mode": "replica"})
    assert read.status_code == 200 and read.json()["totalItems"] == 35
    for response in (
        admin.post(f"{base}/clients", json={"name": "X"}, headers={"Database-Mode": "replica"}),
        admin.post(f"{base}/clients?database-mode=replica", json={"name": "X"}),
        admin.delete(f"{base}/clients/1001", params={"database-mode": "replica"}),
    ):
        assert response.status_code == 405
        assert response.json() == {"message": "Replica mode is read-only: send writes in live mode"}
    assert admin.get(f"{base}/clients/1001").status_code == 200
    assert admin.get(f"{base}/clients", headers={"Database-Mode": "mirror"}).status_code == 400


RATE_HEADERS = {
    "x-ratelimit-remaining",
    "x-ratelimit-daily-limit",
    "x-ratelimit-daily-remaining",
    "x-ratelimit-daily-reset",
}


def _rate_headers(response: requests.Response) -> set[str]:
    """The rate-limit headers of an answer: Robaws documents exactly these four, and no Retry-After."""
    return {name.lower() for name in response.headers if "ratelimit" in name.lower() or name.lower() == "retry-after"}


def test_token_bucket_answers_429_without_retry_after(
    base: str, sandbox: SandboxProcess, admin: requests.Session
) -> None:
    remaining = []
    refused = None
    for _ in range(300):
        response = admin.get(f"{base}/clients", params={"size": 1})
        assert _rate_headers(response) == RATE_HEADERS
        if response.status_code == 429:
            refused = response
            break
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert refused is not None, "a client far above 15 requests/s must be refused"
    assert remaining[0] == 19 and len(remaining) >= 20
    assert refused.json() == {"message": "Too Many Requests"}
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    # Robaws documents no Retry-After: the vendor's advice is to pause about a second.
    assert _rate_headers(refused) == RATE_HEADERS
    # Another credential has its own bucket.
    other = requests.get(
        f"{base}/clients", auth=(os.environ["ROBAWS_LIMITED_USERNAME"], os.environ["ROBAWS_LIMITED_PASSWORD"])
    )
    assert other.status_code == 200
    time.sleep(1)
    assert admin.get(f"{base}/clients").status_code == 200
    assert sandbox.stats()["robaws"]["rate_limited"] >= 1


def test_daily_quota_per_tenant_and_mode(
    base: str, sandbox: SandboxProcess, admin: requests.Session, limited: requests.Session
) -> None:
    first = admin.get(f"{base}/clients")
    assert first.headers["X-RateLimit-Daily-Limit"] == "10000"
    assert first.headers["X-RateLimit-Daily-Remaining"] == "9999"
    assert 0 < int(first.headers["X-RateLimit-Daily-Reset"]) <= 86400
    # The quota is the tenant's, not the user's: the other API user spends from the same one.
    assert limited.get(f"{base}/clients").headers["X-RateLimit-Daily-Remaining"] == "9998"
    sandbox.admin("POST", "/_sandbox/robaws/daily-quota", {"limit": 3})
    left = [admin.get(f"{base}/clients").headers["X-RateLimit-Daily-Remaining"] for _ in range(2)]
    left.append(limited.get(f"{base}/clients").headers["X-RateLimit-Daily-Remaining"])
    assert left == ["2", "1", "0"]
    for session in (admin, limited):
        exhausted = session.get(f"{base}/clients")
        assert exhausted.status_code == 429
        assert "daily" in exhausted.json()["message"].lower()
        assert exhausted.headers["X-RateLimit-Daily-Limit"] == "3"
        assert exhausted.headers["X-RateLimit-Daily-Remaining"] == "0"
        assert _rate_headers(exhausted) == RATE_HEADERS
    # Each mode has its own daily quota.
    replica = admin.get(f"{base}/clients", headers={"Database-Mode": "replica"})
    assert replica.status_code == 200 and replica.headers["X-RateLimit-Daily-Remaining"] == "2"
    sandbox.reset()
    assert admin.get(f"{base}/clients").headers["X-RateLimit-Daily-Limit"] == "10000"


# -- documents -------------------------------------------------------------------------------------------
def _bucket(session: requests.Session, base: str) -> str:
    response = session.post(f"{base}/temp-document-buckets")
    assert response.status_code == 201
    body = response.json()
    expires = datetime.fromisoformat(body["expires"].replace("Z", "+00:00"))
    assert 3500 < (expires - datetime.now(timezone.utc)).total_seconds() <= 3600
    return str(body["id"])


def test_small_and_too_large_uploads(base: str, fast: SandboxProcess, admin: requests.Session) -> None:
    bucket = _bucket(admin, base)
    multipart = admin.post(
        f"{base}/temp-document-buckets/{bucket}/documents",
        files={"file": ("order.pdf", b"%PDF-1.4 small", "application/pdf")},
    )
    assert multipart.status_code == 201, multipart.text
    assert multipart.json()["fileName"] == "order.pdf" and multipart.json()["size"] == 14
    as_json = admin.post(
        f"{base}/temp-document-buckets/{bucket}/documents",
        json={
            "fileName": "note.txt",
            "contentType": "text/plain",
            "bytesBase64": base64.b64encode(b"hello").decode(),
        },
    )
    assert as_json.status_code == 201 and as_json.json()["size"] == 5
    exact = admin.post(
        f"{base}/temp-document-buckets/{bucket}/documents",
        files={"file": ("exact.bin", b"\0" * SIX_MB, "application/octet-stream")},
    )
    assert exact.status_code == 201 and exact.json()["size"] == SIX_MB
    large = admin.post(
        f"{base}/temp-document-buckets/{bucket}/documents",
        files={"file": ("big.bin", b"\0" * (SIX_MB + 1), "application/octet-stream")},
    )
    assert large.status_code == 413
    assert large.json() == {"message": "File is larger than 6 MB: use a document upload session"}
    listed = admin.get(f"{base}/temp-document-buckets/{bucket}").json()["documents"]
    assert sorted(d["size"] for d in listed) == [5, 14, SIX_MB]
    assert (
        admin.post(f"{base}/temp-document-buckets/no-such-bucket/documents", files={"file": ("a", b"a")}).status_code
        == 404
    )


def test_chunked_upload_session(base: str, fast: SandboxProcess, admin: requests.Session) -> None:
    bucket = _bucket(admin, base)
    content = os.urandom(SIX_MB + 100_000)
    session = admin.post(
        f"{base}/temp-document-buckets/{bucket}/document-upload-sessions",
        json={"fileName": "scan.pdf", "fileSize": len(content), "contentType": "application/pdf"},
    )
    assert session.status_code == 201
    assert (session.json()["partSize"], session.json()["parts"]) == (6291456, 2)
    url = f"{base}/document-upload-sessions/{session.json()['id']}"
    parts = [content[:SIX_MB], content[SIX_MB:]]

    def send(number: int, data: bytes) -> requests.Response:
        return admin.post(url, json={"partNumber": number, "bytesBase64": base64.b64encode(data).decode()})

    assert send(1, parts[1]).status_code == 400
    first = send(0, parts[0])
    assert first.status_code == 200 and first.json() == {"partNumber": 0, "received": SIX_MB}
    assert send(1, content[: SIX_MB + 1]).status_code == 413
    last = send(1, parts[1])
    assert last.status_code == 200
    assert last.json()["received"] == len(content)
    document_id = last.json()["documentId"]
    stored = {d["id"]: d for d in fast.admin("GET", "/_sandbox/robaws/documents")}
    assert stored[document_id]["size"] == len(content)
    assert stored[document_id]["sha256"] == hashlib.sha256(content).hexdigest()
    assert (
        admin.post(
            f"{base}/document-upload-sessions/no-such-session", json={"partNumber": 0, "bytesBase64": ""}
        ).status_code
        == 404
    )


def test_purchase_invoice_document_and_approval(base: str, fast: SandboxProcess, admin: requests.Session) -> None:
    bucket = _bucket(admin, base)
    document = admin.post(
        f"{base}/temp-document-buckets/{bucket}/documents",
        files={"file": ("invoice.pdf", b"%PDF invoice", "application/pdf")},
    ).json()
    invoices = _all(admin, f"{base}/purchase-invoices")
    invoice, other = invoices[0], invoices[1]
    assert invoice["approvalStatus"] == "NONE"
    merge = {"Content-Type": "application/merge-patch+json"}
    unknown = admin.patch(
        f"{base}/purchase-invoices/{invoice['id']}",
        data=json.dumps({"documentId": "00000000-0000-0000-0000-000000000000"}),
        headers=merge,
    )
    assert unknown.status_code == 400 and "Unknown documentId" in unknown.json()["message"]
    attached = admin.patch(
        f"{base}/purchase-invoices/{invoice['id']}",
        data=json.dumps({"documentId": document["id"]}),
        headers=merge,
    )
    assert attached.status_code == 200 and attached.json()["documentId"] == document["id"]
    assert admin.get(f"{base}/temp-document-buckets/{bucket}").json()["documents"] == []
    again = admin.patch(
        f"{base}/purchase-invoices/{other['id']}",
        data=json.dumps({"documentId": document["id"]}),
        headers=merge,
    )
    assert again.status_code == 400

    start = admin.post(f"{base}/purchase-invoices/{invoice['id']}/start-approval-request")
    assert start.status_code == 200 and start.json()["approvalStatus"] == "PENDING"
    assert admin.post(f"{base}/purchase-invoices/{invoice['id']}/start-approval-request").status_code == 409
    assert admin.post(f"{base}/purchase-invoices/999999/start-approval-request").status_code == 404


# -- webhooks --------------------------------------------------------------------------------------------
@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    server.shutdown()
    server.server_close()


def _wait_for(received: list[Any], count: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(received) >= count, f"expected {count} deliveries, got {len(received)}"


def test_webhook_registration_and_signed_delivery(
    base: str, fast: SandboxProcess, admin: requests.Session, receiver: tuple[str, list[Any]]
) -> None:
    url, received = receiver
    created = admin.post(f"{base}/webhook-endpoints", json={"url": url, "events": ["client.created"]})
    assert created.status_code == 201
    endpoint = created.json()
    secret = endpoint["secret"]
    assert endpoint["url"] == url and endpoint["events"] == ["client.created"]
    listed = admin.get(f"{base}/webhook-endpoints").json()["items"]
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    assert "secret" not in admin.get(f"{base}/webhook-endpoints/{endpoint['id']}").json()
    bad = admin.post(f"{base}/webhook-endpoints", json={"url": url, "events": ["client.exploded"]})
    assert bad.status_code == 400

    client = admin.post(f"{base}/clients", json={"name": "Hooked"}).json()
    _wait_for(received, 1)
    headers, body = received[0]
    parts = dict(part.split("=", 1) for part in headers["robaws-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert abs(int(parts["t"]) - time.time()) < 60
    event = json.loads(body)
    assert event["event"] == "client.created" and event["data"]["id"] == client["id"]
    assert headers["content-type"] == "application/json" and event["id"]

    # An event nobody subscribed to is not delivered; a second registration of the URL doubles deliveries.
    admin.patch(
        f"{base}/clients/{client['id']}",
        data=json.dumps({"city": "Gent"}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    admin.post(f"{base}/webhook-endpoints", json={"url": url, "events": ["client.created"]})
    admin.post(f"{base}/clients", json={"name": "Hooked twice"})
    _wait_for(received, 3)
    time.sleep(0.5)
    events = [json.loads(b)["event"] for _, b in received]
    assert events == ["client.created"] * 3

    assert admin.delete(f"{base}/webhook-endpoints/{endpoint['id']}").status_code == 204
    assert admin.get(f"{base}/webhook-endpoints/{endpoint['id']}").status_code == 404


# -- OAuth2 ------------------------------------------------------------------------------------------------
def test_oauth_authorization_code_scopes_and_refresh_rotation(
    base: str, fast: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    from requests_oauthlib import OAuth2Session

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    root = fast.vendor_url("robaws")
    client_id, client_secret = os.environ["ROBAWS_CLIENT_ID"], os.environ["ROBAWS_CLIENT_SECRET"]
    oauth = OAuth2Session(client_id, redirect_uri="http://127.0.0.1:8765/callback", scope=["clients"])
    authorize_url, _state = oauth.authorization_url(f"{root}/oauth2/authorize")
    redirect = requests.get(authorize_url, allow_redirects=False)
    assert redirect.status_code == 302
    token = oauth.fetch_token(
        f"{root}/oauth2/tokens",
        client_secret=client_secret,
        authorization_response=redirect.headers["Location"],
    )
    assert token["refresh_token"] and token["expires_in"] == 3600

    assert oauth.get(f"{base}/clients").status_code == 200
    assert oauth.get(f"{base}/sales-invoices").status_code == 200  # no scope of its own
    denied = oauth.get(f"{base}/articles")
    assert denied.status_code == 403 and "articles" in denied.json()["message"]

    old_refresh = token["refresh_token"]
    fresh = oauth.refresh_token(f"{root}/oauth2/tokens", auth=HTTPBasicAuth(client_id, client_secret))
    assert fresh["access_token"] != token["access_token"] and fresh["refresh_token"] != old_refresh
    reused = requests.post(
        f"{root}/oauth2/tokens",
        data={"grant_type": "refresh_token", "refresh_token": old_refresh},
        auth=(client_id, client_secret),
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert oauth.get(f"{base}/clients").status_code == 200

    fast.admin("POST", "/_sandbox/robaws/expire-tokens")
    expired = oauth.get(f"{base}/clients")
    assert expired.status_code == 401
    assert (
        requests.post(
            f"{root}/oauth2/tokens",
            data={"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]},
            auth=(client_id, client_secret),
        ).status_code
        == 200
    )
