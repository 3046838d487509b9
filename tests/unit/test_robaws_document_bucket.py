"""Documents: one reused bucket per client, a purchase invoice created with its documentId in one request."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from test_robaws_client_offline import Recorded, make_client

from Connectors.core.errors import ValidationError


def expires(seconds: float) -> str:
    moment = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeBuckets:
    """Answers bucket, upload and purchase-invoice requests; ``gone`` buckets answer 404."""

    def __init__(self, lifetime: float = 3600) -> None:
        self.lifetime = lifetime
        self.buckets = 0
        self.gone: set[str] = set()

    def __call__(self, call: Recorded) -> tuple[int, Any]:
        if call.path.endswith("/temp-document-buckets"):
            self.buckets += 1
            return 201, {"id": f"bucket-{self.buckets}", "expires": expires(self.lifetime)}
        if call.path.endswith("/documents"):
            bucket = call.path.split("/")[-2]
            if bucket in self.gone:
                return 404, {"message": f"No bucket {bucket}"}
            return 201, {"id": f"doc-in-{bucket}"}
        body = json.loads(call.body or b"{}")
        return 201, {"id": 7, **body}


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(b"%PDF-1.4 bucket\n")
    return path


def test_uploads_share_one_bucket(pdf: Path) -> None:
    client, adapter = make_client(FakeBuckets())
    assert [client.upload_document(pdf) for _ in range(3)] == ["doc-in-bucket-1"] * 3
    assert [c.path.rsplit("/", 1)[-1] for c in adapter.calls] == ["temp-document-buckets"] + ["documents"] * 3


def test_a_bucket_close_to_expiring_is_replaced(pdf: Path) -> None:
    client, adapter = make_client(FakeBuckets(lifetime=60))  # inside the margin: used for one upload only
    client.upload_document(pdf)
    client.upload_document(pdf)
    assert sum(c.path.endswith("/temp-document-buckets") for c in adapter.calls) == 2


def test_a_vanished_bucket_is_replaced_once(pdf: Path) -> None:
    fake = FakeBuckets()
    client, _ = make_client(fake)
    client.upload_document(pdf)
    fake.gone.add("bucket-1")
    assert client.upload_document(pdf) == "doc-in-bucket-2"


def test_a_purchase_invoice_with_its_document_is_three_requests_no_attach(pdf: Path) -> None:
    client, adapter = make_client(FakeBuckets())
    created = client.create_purchase_invoice({"supplierId": 1001, "number": "B-1"}, "key-b-1", document=pdf)
    assert created["documentId"] == "doc-in-bucket-1"
    assert [(c.method, c.path.rsplit("/", 1)[-1]) for c in adapter.calls] == [
        ("POST", "temp-document-buckets"),
        ("POST", "documents"),
        ("POST", "purchase-invoices"),
    ]
    assert json.loads(adapter.calls[-1].body or b"{}")["documentId"] == "doc-in-bucket-1"
    keys = [c.headers.get("Idempotency-Key") for c in adapter.calls[1:]]
    assert keys[1] == "key-b-1" and keys[0] and keys[0] != keys[1]  # the upload's key derives from the invoice's
    client.create_purchase_invoice({"supplierId": 1001, "number": "B-2"}, document=pdf)
    assert sum(c.path.endswith("/temp-document-buckets") for c in adapter.calls) == 1


def test_a_document_id_and_a_document_to_upload_fail_in_one_line(pdf: Path) -> None:
    client, adapter = make_client(FakeBuckets())
    with pytest.raises(ValidationError, match="documentId and a document"):
        client.create_purchase_invoice({"supplierId": 1, "documentId": "doc-9"}, document=pdf)
    assert adapter.calls == []
