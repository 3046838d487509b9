"""RobawsClient against the Robaws sandbox: every method, the bad inputs, OAuth refresh with rotation,
throttling without 429s, the daily quota, and webhook deliveries verified end to end."""

from __future__ import annotations

import datetime
import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from Connectors import RobawsClient
from Connectors.core.errors import (
    AuthenticationError,
    ConfigurationError,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from Connectors.core.tokens import FileTokenStore
from connectors_sandbox.server import SandboxProcess

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def robaws(sandbox: SandboxProcess) -> Iterator[RobawsClient]:
    with RobawsClient() as client:
        yield client


def robaws_stats(sandbox: SandboxProcess) -> dict[str, Any]:
    return dict(sandbox.stats().get("robaws", {}))


def supplier_id(client: RobawsClient) -> int:
    return int(next(client.list("suppliers", limit=1))["id"])


def pdf(path: Path, text: str = "invoice") -> Path:
    path.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% " + text.encode() + b"\n%%EOF\n")
    return path


# -- reading --------------------------------------------------------------------------------------------
def test_list_pages_lazily_with_sort_filters_and_extra_fields(robaws: RobawsClient, sandbox: SandboxProcess) -> None:
    before = robaws_stats(sandbox).get("requests", 0)
    first_three = list(robaws.list("clients", limit=3, sort="name:asc"))
    assert [c["name"] for c in first_three] == sorted(c["name"] for c in robaws.list("clients"))[:3]
    all_clients = list(robaws.list("clients", page_size=4))
    assert len(all_clients) == len({c["id"] for c in all_clients}) > 30
    # limit=3 took one request; the full walk took ceil(n/4) more, the comparison list one page of 100.
    used = robaws_stats(sandbox)["requests"] - before
    assert used == 1 + 1 + -(-len(all_clients) // 4)
    social = list(robaws.list("clients", extra_fields={"Contact via": "Social media"}, include="extraFields"))
    assert social and all(c["extraFields"]["Contact via"]["stringValue"] == "Social media" for c in social)
    outdoor = list(robaws.list("articles", extra_fields={"Outdoor": True}, include="extraFields"))
    assert outdoor and all(a["extraFields"]["Outdoor"]["booleanValue"] is True for a in outdoor)
    credit_notes = list(robaws.list_sales_invoices(type="CREDIT_NOTE"))
    assert credit_notes and {i["type"] for i in credit_notes} == {"CREDIT_NOTE"}


def test_crud_on_a_generic_collection(robaws: RobawsClient) -> None:
    created = robaws.create("articles", {"name": "Heat pump X", "code": "ART-X", "salePrice": 10})
    assert isinstance(created["id"], int)
    updated = robaws.update("articles", created["id"], {"salePrice": 12.5})
    assert updated["salePrice"] == 12.5 and updated["code"] == "ART-X"
    patched = robaws.patch(
        "articles",
        created["id"],
        [{"op": "replace", "path": "/name", "value": "Heat pump Y"}, {"op": "remove", "path": "/code"}],
    )
    assert patched["name"] == "Heat pump Y" and "code" not in patched
    replaced = robaws.replace("articles", created["id"], {"name": "Only name"})
    assert replaced["name"] == "Only name" and "salePrice" not in replaced
    assert robaws.get("articles", created["id"])["name"] == "Only name"
    robaws.delete("articles", created["id"])
    with pytest.raises(NotFound):
        robaws.get("articles", created["id"])


def test_idempotency_key_replays_instead_of_duplicating(robaws: RobawsClient, sandbox: SandboxProcess) -> None:
    key = robaws.idempotency_key_for("client", "ACME-1")
    first = robaws.create_client({"name": "ACME NV"}, idempotency_key=key)
    second = robaws.create_client({"name": "ACME NV"}, idempotency_key=key)
    assert first["id"] == second["id"]
    assert [c["name"] for c in robaws.list_clients(limit=None)].count("ACME NV") == 1
    assert robaws_stats(sandbox)["idempotent_replays"] == 1


# -- purchase invoices and documents ---------------------------------------------------------------------
def test_purchase_invoice_with_document_and_approval_rerun_safe(
    robaws: RobawsClient, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    invoice = {
        "supplierId": supplier_id(robaws),
        "number": "SUP-42",
        "date": "2024-05-01",
        "totalExclVat": 99.5,
    }
    key = robaws.idempotency_key_for("purchase-invoice", invoice["supplierId"], "SUP-42")
    created = robaws.create_purchase_invoice(invoice, key, document=pdf(tmp_path / "sup-42.pdf"))
    assert created["documentId"]
    approved = robaws.start_purchase_invoice_approval(created["id"], robaws.idempotency_key_for(key, "approval"))
    assert approved["approvalStatus"] == "PENDING"
    count = len(list(robaws.list("purchase-invoices")))
    documents = len(sandbox.admin("GET", "/_sandbox/robaws/documents"))
    # A re-run: the same keys create nothing, upload nothing, and the approval is not started twice.
    again = robaws.create_purchase_invoice(invoice, key, document=pdf(tmp_path / "sup-42.pdf"))
    assert (again["id"], again["documentId"]) == (created["id"], created["documentId"])
    robaws.start_purchase_invoice_approval(created["id"], robaws.idempotency_key_for(key, "approval"))
    assert len(list(robaws.list("purchase-invoices"))) == count
    assert len(sandbox.admin("GET", "/_sandbox/robaws/documents")) == documents
    # Without the key, a second approval request is refused clearly.
    with pytest.raises(Conflict, match="already pending"):
        robaws.start_purchase_invoice_approval(created["id"])


def test_attach_a_separately_uploaded_document(robaws: RobawsClient, tmp_path: Path) -> None:
    created = robaws.create_purchase_invoice({"supplierId": supplier_id(robaws), "number": "SUP-7"})
    assert not created.get("documentId")
    document_id = robaws.upload_document(pdf(tmp_path / "scan.pdf"), file_name="SUP-7.pdf")
    attached = robaws.attach_document_to_purchase_invoice(created["id"], document_id)
    assert attached["documentId"] == document_id


def test_unknown_document_id_is_a_validation_error(robaws: RobawsClient) -> None:
    created = robaws.create_purchase_invoice({"supplierId": supplier_id(robaws), "number": "SUP-8"})
    with pytest.raises(ValidationError, match="documentId: Unknown documentId"):
        robaws.attach_document_to_purchase_invoice(created["id"], "no-such-document")


def test_large_file_uploads_in_parts_and_single_request_gives_413(robaws: RobawsClient, tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:
        handle.write(os.urandom(7 * 1024 * 1024))
    document_id = robaws.upload_document(big)
    created = robaws.create_purchase_invoice({"supplierId": supplier_id(robaws), "number": "BIG-1"})
    assert robaws.attach_document_to_purchase_invoice(created["id"], document_id)["documentId"] == document_id
    with pytest.raises(ValidationError) as caught:
        robaws.upload_document(big, chunked=False)
    assert caught.value.status == 413
    assert "larger than 6 MB" in str(caught.value) and "without chunked=False" in str(caught.value)


def test_sales_invoice(robaws: RobawsClient) -> None:
    client = robaws.create_client({"name": "Sales Client BV"})
    invoice = robaws.create_sales_invoice({"clientId": client["id"], "date": "2024-06-01", "type": "INVOICE"})
    # Robaws documents no clientId filter (the sandbox ignores it, as Robaws would): pick them out here.
    found = [i for i in robaws.list_sales_invoices(limit=None, type="INVOICE") if i["clientId"] == client["id"]]
    assert [i["id"] for i in found] == [invoice["id"]]


# -- bad inputs: one line naming the cause ------------------------------------------------------------------
def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text
    return text


def test_wrong_password(sandbox: SandboxProcess) -> None:
    client = RobawsClient(username=os.environ["ROBAWS_USERNAME"], password="not-the-password")
    with pytest.raises(AuthenticationError) as caught:
        client.get("clients", 1001)
    assert "HTTP 401: Invalid username or password" in one_line(caught.value)
    assert "ROBAWS_PASSWORD" in str(caught.value)


def test_role_without_the_module(sandbox: SandboxProcess) -> None:
    client = RobawsClient(
        username=os.environ["ROBAWS_LIMITED_USERNAME"], password=os.environ["ROBAWS_LIMITED_PASSWORD"]
    )
    assert list(client.list("clients", limit=1))
    with pytest.raises(PermissionDenied) as caught:
        list(client.list("purchase-invoices", limit=1))
    assert "HTTP 403: Your role has no access to purchase-invoices" in one_line(caught.value)
    with pytest.raises(PermissionDenied, match="Only admin users may manage webhook endpoints"):
        client.register_webhook("http://127.0.0.1:9/hook", ["client.created"])


def test_unknown_collection_and_invalid_patch(robaws: RobawsClient) -> None:
    with pytest.raises(NotFound) as caught:
        list(robaws.list("no-such-things"))
    assert "GET /no-such-things: HTTP 404: Unknown collection" in one_line(caught.value)
    client_id = next(robaws.list("clients", limit=1))["id"]
    # Well-formed but inapplicable: the server names the failing operation.
    with pytest.raises(ValidationError) as caught:
        robaws.patch("clients", client_id, [{"op": "remove", "path": "/no/such/field"}])
    assert "HTTP 400" in one_line(caught.value)
    with pytest.raises(ValidationError, match="invalid op 'rename'"):
        robaws.patch("clients", client_id, [{"op": "rename", "path": "/name"}])


def test_replica_mode_reads_but_refuses_writes(robaws: RobawsClient) -> None:
    robaws.use_replica_mode()
    assert list(robaws.list("clients", limit=2))
    with pytest.raises(ValidationError) as caught:
        robaws.create_client({"name": "In replica"})
    assert "HTTP 405: Replica mode is read-only" in one_line(caught.value)
    assert "Use Robaws Live Mode" in str(caught.value)
    status = robaws.rate_limit_status()
    assert status["mode"] == "replica" and "replica" in status["daily_remaining"]
    robaws.use_live_mode()
    assert robaws.create_client({"name": "In live"})["id"]


# -- limits -------------------------------------------------------------------------------------------------
def test_a_burst_of_requests_gets_no_429(robaws: RobawsClient, sandbox: SandboxProcess) -> None:
    started = time.monotonic()
    for _ in range(50):
        robaws.get("clients", 1001)
    elapsed = time.monotonic() - started
    stats = robaws_stats(sandbox)
    assert stats["rate_limited"] == 0
    # 20 from the burst, 30 at 15/s: about two seconds, never much faster than the server allows.
    assert elapsed > 1.5
    assert robaws.rate_limit_status()["waits"] > 0


def test_daily_quota_exhaustion_fails_fast(robaws: RobawsClient, sandbox: SandboxProcess) -> None:
    sandbox.admin("POST", "/_sandbox/robaws/daily-quota", {"limit": 3, "mode": "live"})
    try:
        for _ in range(3):
            robaws.get("clients", 1001)
        assert robaws.rate_limit_status()["daily_remaining"]["live"] == 0
        before = robaws_stats(sandbox)["requests"]
        with pytest.raises(RateLimited, match="daily request quota \\(live mode\\) is used up"):
            robaws.get("clients", 1001)
        assert robaws_stats(sandbox)["requests"] == before  # refused without asking the server
        robaws.use_replica_mode()
        assert robaws.get("clients", 1001)["id"] == 1001  # the replica has its own quota
    finally:
        sandbox.admin("POST", "/_sandbox/robaws/daily-quota", {"limit": 10000})


# -- OAuth2 -------------------------------------------------------------------------------------------------
def oauth_login(scope: str, store: FileTokenStore) -> None:
    """What ``connectors login robaws`` does, driven without a browser (the sandbox consents itself)."""
    base = os.environ["ROBAWS_URL"]
    redirect = "http://127.0.0.1:8765/callback"
    answer = requests.get(
        f"{base}/oauth2/authorize",
        allow_redirects=False,
        timeout=10,
        params={
            "client_id": os.environ["ROBAWS_CLIENT_ID"],
            "redirect_uri": redirect,
            "response_type": "code",
            "scope": scope,
            "state": "s1",
        },
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = requests.post(
        f"{base}/oauth2/tokens",
        timeout=10,
        data={
            "grant_type": "authorization_code",
            "client_id": os.environ["ROBAWS_CLIENT_ID"],
            "client_secret": os.environ["ROBAWS_CLIENT_SECRET"],
            "code": code,
            "redirect_uri": redirect,
        },
    ).json()
    store.put(f"robaws:{os.environ['ROBAWS_CLIENT_ID']}", token)


def oauth_client(token_store: Path) -> RobawsClient:
    return RobawsClient(
        client_id=os.environ["ROBAWS_CLIENT_ID"],
        client_secret=os.environ["ROBAWS_CLIENT_SECRET"],
        token_store=token_store,
    )


def test_oauth_token_refreshes_once_with_rotation(sandbox: SandboxProcess, tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")
    oauth_login("clients profile", store)
    key = f"robaws:{os.environ['ROBAWS_CLIENT_ID']}"
    original = store.get(key)
    assert original
    client = oauth_client(store.path)
    assert list(client.list("clients", limit=1))
    sandbox.admin("POST", "/_sandbox/robaws/expire-tokens")
    assert list(client.list("clients", limit=1))  # 401, one refresh, the same request again
    refreshed = store.get(key)
    assert refreshed and refreshed["access_token"] != original["access_token"]
    assert refreshed["refresh_token"] != original["refresh_token"]
    # Rotation: the old refresh token is spent, so the server would refuse a second refresh with it.
    spent = requests.post(
        f"{os.environ['ROBAWS_URL']}/oauth2/tokens",
        timeout=10,
        data={
            "grant_type": "refresh_token",
            "refresh_token": original["refresh_token"],
            "client_id": os.environ["ROBAWS_CLIENT_ID"],
            "client_secret": os.environ["ROBAWS_CLIENT_SECRET"],
        },
    )
    assert spent.status_code == 400
    # Later calls use the new token: no second refresh.
    for _ in range(2):
        assert list(client.list("clients", limit=1))
    assert store.get(key) == refreshed
    # The scope covers clients only.
    with pytest.raises(PermissionDenied) as caught:
        list(client.list("articles", limit=1))
    assert "lacks the 'articles' scope" in one_line(caught.value)


def test_oauth_without_a_stored_token_says_to_log_in(sandbox: SandboxProcess, tmp_path: Path) -> None:
    client = oauth_client(tmp_path / "empty.json")
    with pytest.raises(AuthenticationError, match="connectors login"):
        client.get("clients", 1001)


def test_vault_secret_credentials(sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault = tmp_path / "vault.json"
    secret = {"username": os.environ["ROBAWS_USERNAME"], "password": os.environ["ROBAWS_PASSWORD"]}
    vault.write_text(json.dumps({"robaws": secret}))
    monkeypatch.setenv("RPA_SECRET_FILE", str(vault))
    monkeypatch.delenv("RPA_SECRET_MANAGER", raising=False)
    monkeypatch.delenv("RC_VAULT_SECRET_MANAGER", raising=False)
    monkeypatch.delenv("RC_VAULT_SECRETS_FILE", raising=False)
    with RobawsClient(vault_secret="robaws") as client:
        assert client.get("clients", 1001)["id"] == 1001
    with pytest.raises(ConfigurationError, match="'nope' is not in"):
        RobawsClient(vault_secret="nope")


# -- webhooks -----------------------------------------------------------------------------------------------
class Receiver(http.server.BaseHTTPRequestHandler):
    deliveries: list[tuple[bytes, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.deliveries.append((body, self.headers.get("Robaws-Signature", "")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


def test_webhook_delivery_is_verified(robaws: RobawsClient) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.deliveries = []
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/robaws"
        hook = robaws.register_webhook(url, ["client.created"])
        assert hook["secret"] and [h["id"] for h in robaws.list_webhooks()] == [hook["id"]]
        assert "secret" not in robaws.list_webhooks()[0]
        robaws.create_client({"name": "Webhook Client"})
        deadline = time.monotonic() + 10
        while not Receiver.deliveries and time.monotonic() < deadline:
            time.sleep(0.05)
        body, signature = Receiver.deliveries[0]
        assert robaws.verify_webhook(body, signature, hook["secret"])["event"] == "client.created"
        with pytest.raises(AuthenticationError, match="does not match"):
            robaws.verify_webhook(body + b" ", signature, hook["secret"])
        robaws.delete_webhook(hook["id"])
        assert robaws.list_webhooks() == []
    finally:
        server.shutdown()


# -- nested collections -------------------------------------------------------------------------------------
def test_contacts_line_items_and_an_entitys_documents_tab(robaws: RobawsClient, tmp_path: Path) -> None:
    client = robaws.create_client({"name": "Nested BV"})
    contact = robaws.create_client_contact(client["id"], {"name": "Jan", "email": "jan@nested.test"})
    assert [c["id"] for c in robaws.list_client_contacts(client["id"])] == [contact["id"]]
    assert list(robaws.list(f"clients/{client['id']}/contacts")) == [contact]  # the generic path, nested
    supplier = robaws.create("suppliers", {"name": "Nested Supplies", "vatNumber": "BE0123456789"})
    robaws.create_supplier_contact(supplier["id"], {"name": "Els"})
    assert [c["name"] for c in robaws.list_supplier_contacts(supplier["id"])] == ["Els"]

    lines = [{"description": "Cement", "quantity": 2}]
    order = robaws.create("purchase-supply-orders", {"supplierId": supplier["id"], "lineItems": lines})
    [line] = robaws.list_supply_order_line_items(order["id"])
    changed = robaws.update_supply_order_line_item(order["id"], line["id"], {"quantity": 4})
    assert changed["quantity"] == 4 and robaws.get_supply_order_line_item(order["id"], line["id"]) == changed
    assert robaws.get(f"purchase-supply-orders/{order['id']}/line-items", line["id"]) == changed

    offer = robaws.create("offers", {"title": "Roof"})
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(b"%PDF-1.4 roof plan\n")
    document = robaws.upload_document_to_entity("offers", offer["id"], plan)
    assert document["fileName"] == "plan.pdf"
    assert [d["id"] for d in robaws.list(f"offers/{offer['id']}/documents")] == [document["id"]]
    with pytest.raises(ValidationError, match="collection"):
        robaws.list(f"offers/{offer['id']}/../../clients")


# -- extra fields by value ------------------------------------------------------------------------------------
def test_extra_fields_by_plain_value_round_trip(robaws: RobawsClient) -> None:
    plain = {"Contact via": "Website", "Visits": 3, "Rating": 4.5, "VIP": True, "Since": datetime.date(2021, 7, 8)}
    created = robaws.create_client({"name": "Extra Plain BV"}, extra_fields=plain)
    read = robaws.get("clients", created["id"], include="extraFields")
    assert read["extraFields"]["Visits"] == {"integerValue": 3}  # the answer keeps Robaws' shape
    assert robaws.extra_fields_of(read) == {**plain, "Since": "2021-07-08"}
    found = list(robaws.list_clients(limit=None, extra_fields={"Visits": 3, "VIP": True}))
    assert created["id"] in {c["id"] for c in found}
    robaws.update("clients", created["id"], None, extra_fields={"Visits": 4, "Contact via": None})
    after = robaws.extra_fields_of(robaws.get("clients", created["id"], include="extraFields"))
    assert after["Visits"] == 4 and "Contact via" not in after
