"""``RobawsClient``: the Robaws API v2 (``<ROBAWS_URL>/api/v2``) as typed Python methods.

Everything goes through the core ``Transport``, configured from the Robaws profile (``profile.py``):
the client-side token bucket (15/s, burst 20) and daily quota, the ``Idempotency-Key`` header on every
POST/PUT/PATCH (reused on retries and on a repeat of a write that failed), retries and errors. This
module only knows Robaws: paths, the paging envelope, modes, document buckets and upload sessions,
approval requests and webhooks.
"""

from __future__ import annotations

import base64
import builtins
import mimetypes
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import requests

from Connectors.core import arguments, log
from Connectors.core.config import Credential, require
from Connectors.core.errors import ConfigurationError, ConnectorError, UncertainOutcome, ValidationError
from Connectors.core.paging import page_number_fetcher, paginate
from Connectors.core.paths import build
from Connectors.core.redact import redactor
from Connectors.core.repeats import journal, key_for
from Connectors.core.settings import lookup
from Connectors.core.webhooks import SignatureError, event_of, verify_timestamped
from Connectors.vendors.base import BaseClient, named
from Connectors.vendors.robaws.profile import MAX_UPLOAD_MB, ROBAWS
from Connectors.vendors.robaws.query import (
    JSON_PATCH,
    MERGE_PATCH,
    build_query,
    encode_query,
    validate_json_patch,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from Connectors.vendors.typed import RobawsSettings


MAX_PAGE_SIZE = 100
# Robaws takes at most 6 MB in one upload request; larger files go in parts of at most this size.
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
LIVE, REPLICA = "live", "replica"
Entity = dict[str, Any]


def idempotency_key_for(*parts: Any) -> str:
    """A stable ``Idempotency-Key`` (at most 128 characters) derived from business keys.

    Every part must be a text or a number and none may be empty: a missing business key (an empty
    invoice number, say) would give two different invoices the same key, and Robaws would answer the
    second create with the first invoice.
    """
    for number, part in enumerate(parts, start=1):
        if isinstance(part, bool) or not isinstance(part, (str, int)) or not str(part).strip():
            what = "empty" if isinstance(part, str) or part is None else f"a {type(part).__name__}"
            raise ConfigurationError(
                f"An idempotency key needs non-empty business keys (texts or numbers): part {number} is {what}.",
                hint="An empty part would give different records the same key; pass e.g. the invoice number.",
            )
    return key_for(*parts, max_length=ROBAWS.max_idempotency_key)


def _key(key: Any) -> str | None:
    """A caller's idempotency key as a text (``None`` or blank: none). The transport checks its length
    and characters; a bytes key would be sent as "b'…'" and spaces around it are refused as a header value."""
    if key is None or (isinstance(key, str) and not key.strip()):
        return None
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise ValidationError(f"idempotency_key must be a text, got {type(key).__name__}.", vendor=ROBAWS.name)
    if isinstance(key, str) and key != key.strip():
        raise ValidationError("idempotency_key has spaces around it.", vendor=ROBAWS.name, hint="Pass the key alone.")
    return str(key)


def _sub_key(key: str | None, step: str) -> str | None:
    # A follow-up request of one business operation gets its own key, derived from the caller's.
    return None if key is None else idempotency_key_for(key, step)


def _path(collection: Any, *ids: Any) -> str:
    # The leading slash is only for the messages: errors read "GET /clients/42".
    return build((collection, "collection"), *((value, "entity_id") for value in ids))


class RobawsClient(BaseClient):
    """The Robaws API v2 for Python tasks (``from Connectors import RobawsClient``).

    With no arguments every setting comes from the environment or the Vault, in the documented order
    (see ``Connectors.core.settings``): ``ROBAWS_URL``, ``ROBAWS_USERNAME`` / ``ROBAWS_PASSWORD`` or the
    OAuth client ``ROBAWS_CLIENT_ID`` / ``ROBAWS_CLIENT_SECRET`` with the token store, and the limits.
    """

    profile = ROBAWS

    def __init__(self, url: str | None = None, /, **settings: Unpack[RobawsSettings]) -> None:
        super().__init__(**named(settings, url=url))
        self.mode = LIVE
        self.throttle.report_daily(LIVE, REPLICA)  # each mode has its own daily quota

    def __repr__(self) -> str:
        return f"RobawsClient({self.url!r}, {self.auth.describe()}, mode={self.mode})"

    # -- modes and limits -------------------------------------------------------------------------
    def use_replica_mode(self) -> None:
        """Send reads to the read-only replica (its own daily quota; writes answer 405)."""
        self.mode = REPLICA

    def use_live_mode(self) -> None:
        self.mode = LIVE

    def rate_limit_status(self) -> dict[str, Any]:
        status = super().rate_limit_status()
        status["mode"] = self.mode
        return status

    # -- the one place requests are made ------------------------------------------------------------
    def _send(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        send = dict(headers or {})
        kwargs["idempotency_key"] = _key(kwargs.get("idempotency_key"))
        if self.mode == REPLICA:
            send["Database-Mode"] = REPLICA
        return self.transport.request(method, path, headers=send, quota_scope=self.mode, **kwargs)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request in the current mode; the decoded JSON answer (``None`` when empty)."""
        return self.transport.decode(self._send(method, path, **kwargs), method, path)

    def _entity(self, body: Any, collection: str, entity_id: Any) -> Entity:
        if isinstance(body, dict):
            return body
        # Robaws may answer a PATCH with 204 and no body: read the entity back.
        return self.get(collection, entity_id)

    # -- generic resources --------------------------------------------------------------------------
    def list(
        self,
        collection: str,
        *,
        limit: int | None = None,
        sort: str | Sequence[str] | None = None,
        include: str | Sequence[str] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        extra_fields: Mapping[str, Any] | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """Yield the items of ``collection``, fetching pages (``page`` / ``size``) only as they are consumed."""
        page_size = arguments.whole_number(page_size, "page_size", minimum=1, maximum=MAX_PAGE_SIZE)
        limit = arguments.limit(limit)
        if limit is not None:
            # No point in fetching a full page of 100 for the first 5 items.
            page_size = min(page_size, limit)
        path = _path(collection)
        base = build_query(sort=sort, include=include, extra_fields=extra_fields, filters=filters)

        def get_page(number: int, size: int) -> dict[str, Any]:
            query = encode_query([*base, ("page", number), ("size", size)])
            body = self._call("GET", f"{path}?{query}")
            if isinstance(body, builtins.list):
                return {"items": body, "totalPages": 1}
            return body if isinstance(body, dict) else {"items": []}

        return paginate(page_number_fetcher(get_page, size=page_size), 0, limit)

    def get(self, collection: str, entity_id: Any, *, include: str | Sequence[str] | None = None) -> Entity:
        path = _path(collection, entity_id)
        query = build_query(include=include)
        if query:
            path += "?" + encode_query(query)
        body = self._call("GET", path)
        return body if isinstance(body, dict) else {}

    def create(self, collection: str, body: Mapping[str, Any], idempotency_key: str | None = None) -> Entity:
        """POST a new entity; the answer (201) is the created entity with its integer ``id``."""
        path = _path(collection)
        fields = arguments.mapping(body, "body")
        response = self._send("POST", path, json=fields, idempotency_key=idempotency_key)
        created = self.transport.decode(response, "POST", path)
        if isinstance(created, dict):
            return created
        location = response.headers.get("Location")
        if location:
            # Location may be host-relative ("/api/v2/clients/7"): resolve it against the request URL.
            return self._call("GET", urljoin(response.url or self.base_url, location)) or {}
        return {}

    def update(
        self, collection: str, entity_id: Any, changes: Mapping[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """JSON Merge Patch: only the given fields change (``None`` clears a field)."""
        body = self._call(
            "PATCH",
            _path(collection, entity_id),
            json=arguments.mapping(changes, "changes", allow_empty=False),
            headers={"Content-Type": MERGE_PATCH},
            idempotency_key=idempotency_key,
        )
        return self._entity(body, collection, entity_id)

    def patch(
        self,
        collection: str,
        entity_id: Any,
        operations: Sequence[Mapping[str, Any]],
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """JSON Patch (RFC 6902): a list of ``{"op", "path", "value"}`` operations."""
        path = _path(collection, entity_id)
        ops = validate_json_patch(operations)
        body = self._call(
            "PATCH",
            path,
            json=ops,
            headers={"Content-Type": JSON_PATCH},
            idempotency_key=idempotency_key,
        )
        return self._entity(body, collection, entity_id)

    def replace(
        self, collection: str, entity_id: Any, body: Mapping[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """PUT: the entity becomes exactly ``body`` (fields left out are cleared)."""
        answer = self._call(
            "PUT", _path(collection, entity_id), json=arguments.mapping(body, "body"), idempotency_key=idempotency_key
        )
        return self._entity(answer, collection, entity_id)

    def delete(self, collection: str, entity_id: Any) -> None:
        self._send("DELETE", _path(collection, entity_id))

    # -- clients ------------------------------------------------------------------------------------
    def create_client(self, client: Mapping[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        client = arguments.mapping(client, "client")
        if not str(client.get("name") or "").strip():
            raise ValidationError(
                "A Robaws client needs a name.", vendor=self.vendor, hint="Pass the client's name, e.g. name=ACME NV."
            )
        return self.create("clients", client, idempotency_key)

    def list_clients(
        self,
        limit: int | None = None,
        extra_fields: Mapping[str, Any] | None = None,
        include: str | Sequence[str] | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """Clients matching field filters and extra-field filters (lazily, like ``list``)."""
        return self.list("clients", limit=limit, extra_fields=extra_fields, include=include, **filters)

    #: The name before the keyword surface settled on one listing verb (``List Robaws Clients``).
    find_clients = list_clients

    # -- purchase invoices --------------------------------------------------------------------------
    def create_purchase_invoice(
        self,
        invoice: Mapping[str, Any],
        idempotency_key: str | None = None,
        document: str | os.PathLike[str] | None = None,
    ) -> dict[str, Any]:
        """Create a purchase invoice and, when ``document`` is a file, upload and attach it.

        The steps share one idempotency key (the caller's, else one kept for this call until it
        succeeds), so repeating the call - a re-run robot, or ``Wait Until Keyword Succeeds`` after any
        failure - creates no second invoice: Robaws replays the create and the attach.
        """
        invoice = arguments.mapping(invoice, "invoice")
        idempotency_key = _key(idempotency_key)
        if invoice.get("supplierId") in (None, ""):
            raise ValidationError(
                "A Robaws purchase invoice needs a supplierId.",
                vendor=self.vendor,
                hint="Look the supplier up first (List Robaws Resources    suppliers).",
            )
        if document is not None:
            document = arguments.existing_file(document, "document")
        operation = self.transport.write_id("create_purchase_invoice", "/purchase-invoices", [invoice, document])
        with self._safe_to_repeat(operation, idempotency_key) as key:
            created = self.create("purchase-invoices", invoice, key)
            if document is None:
                return created
            # No read-back: on a replay the attach below is replayed as well (its key derives from this one),
            # so the answer is the invoice with its document either way.
            document_id = self.upload_document(document, idempotency_key=_sub_key(key, "document"))
            return self.attach_document_to_purchase_invoice(created["id"], document_id, _sub_key(key, "attach"))

    @contextmanager
    def _safe_to_repeat(self, operation: str, given_key: str | None) -> Iterator[str]:
        """One key for a write of several requests; a failure says how to repeat it (``core.repeats``)."""
        try:
            with journal.operation(operation, given_key) as key:
                yield key
        except ConnectorError as error:
            if isinstance(error, ConfigurationError):
                raise
            hint = (
                f"Repeat the same call and it reuses idempotency key {key}, so Robaws replays what was done "
                f"instead of creating it twice (from another process: idempotency_key={key})."
            )
            raise error.replace(hint=hint, **({"idempotency_key": key} if isinstance(error, UncertainOutcome) else {}))

    def attach_document_to_purchase_invoice(
        self, invoice_id: Any, document_id: str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Attach an uploaded document (id from ``upload_document``); Robaws takes it out of its bucket."""
        document = arguments.text(document_id, "document_id")
        return self.update("purchase-invoices", invoice_id, {"documentId": document}, idempotency_key)

    def start_purchase_invoice_approval(self, invoice_id: Any, idempotency_key: str | None = None) -> Entity:
        """Start the approval request; the invoice's ``approvalStatus`` becomes ``PENDING``."""
        body = self._call(
            "POST", _path("purchase-invoices", invoice_id, "start-approval-request"), idempotency_key=idempotency_key
        )
        return self._entity(body, "purchase-invoices", invoice_id)

    # -- sales invoices -----------------------------------------------------------------------------
    def create_sales_invoice(self, invoice: Mapping[str, Any], idempotency_key: str | None = None) -> Entity:
        invoice = arguments.mapping(invoice, "invoice")
        if invoice.get("clientId") in (None, ""):
            raise ValidationError(
                "A Robaws sales invoice needs a clientId.",
                vendor=self.vendor,
                hint="Find or create the client first (List Robaws Clients, Create Robaws Client).",
            )
        return self.create("sales-invoices", invoice, idempotency_key)

    def list_sales_invoices(self, limit: int | None = None, **filters: Any) -> Iterator[dict[str, Any]]:
        return self.list("sales-invoices", limit=limit, **filters)

    # -- documents ----------------------------------------------------------------------------------
    def upload_document(
        self,
        path: str | os.PathLike[str],
        file_name: str | None = None,
        content_type: str | None = None,
        chunked: bool | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Upload a file into a new temporary bucket and return its document id.

        Files up to 6 MB go in one multipart request; larger ones through an upload session, read
        and sent one part at a time so a large file is never held in memory whole. ``chunked``
        forces one way or the other (``None`` chooses by size). With ``idempotency_key`` every step
        gets a key derived from it, so a repeat replays the same bucket and document.
        """
        source = arguments.existing_file(path, "path")
        # Both go into the multipart part's headers: one line each, or a value could add a header.
        name = arguments.optional_text(file_name, "file_name", max_length=255) or source.name
        ctype = (
            arguments.optional_text(content_type, "content_type", max_length=255)
            or mimetypes.guess_type(name)[0]
            or "application/octet-stream"
        )
        chunked = arguments.optional_flag(chunked, "chunked")
        size = source.stat().st_size
        bucket = self._call(
            "POST", "/temp-document-buckets", json={}, idempotency_key=_sub_key(idempotency_key, "bucket")
        )["id"]
        use_parts = size > MAX_UPLOAD_BYTES if chunked is None else chunked
        if not use_parts:
            # Bytes, not a file handle: a retried request must send the whole file again.
            content = source.read_bytes()
            answer = self._call(
                "POST",
                _path("temp-document-buckets", bucket, "documents"),
                files={"file": (name, content, ctype)},
                idempotency_key=_sub_key(idempotency_key, "upload"),
            )
            document_id = str(answer["id"])
        else:
            document_id = self._upload_in_parts(source, bucket, name, size, ctype, idempotency_key)
        log.info(f"Uploaded {name} ({size} bytes) as Robaws document {document_id}.")
        return document_id

    def _upload_in_parts(self, source: Path, bucket: Any, name: str, size: int, ctype: str, key: str | None) -> str:
        session = self._call(
            "POST",
            _path("temp-document-buckets", bucket, "document-upload-sessions"),
            json={"fileName": name, "fileSize": size, "contentType": ctype},
            idempotency_key=_sub_key(key, "session"),
        )
        part_size = min(int(session.get("partSize") or MAX_UPLOAD_BYTES), MAX_UPLOAD_BYTES)
        parts = int(session.get("parts") or max(1, -(-size // part_size)))
        answer: Any = None
        with source.open("rb") as handle:
            for number in range(parts):
                chunk = handle.read(part_size)
                payload = {"bytesBase64": base64.b64encode(chunk).decode("ascii"), "partNumber": number}
                del chunk
                answer = self._call(
                    "POST",
                    _path("document-upload-sessions", session["id"]),
                    json=payload,
                    idempotency_key=_sub_key(key, f"part-{number}"),
                )
                del payload
        document_id = (answer or {}).get("documentId")
        if not document_id:
            raise ValidationError(
                f"The upload session for {name} finished without a document id.",
                vendor=self.vendor,
                hint="Upload the file again.",
            )
        return str(document_id)

    # -- webhooks -----------------------------------------------------------------------------------
    def register_webhook(
        self, url: str, events: str | Sequence[str], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Register an endpoint; the answer's ``secret`` (shown only now) signs every delivery."""
        names = arguments.texts(events, "events")
        created = self.create(
            "webhook-endpoints", {"url": arguments.text(url, "url"), "events": names}, idempotency_key
        )
        redactor.register(created.get("secret"))
        return created

    def list_webhooks(self) -> builtins.list[dict[str, Any]]:
        webhooks = builtins.list(self.list("webhook-endpoints"))
        redactor.register(*(hook.get("secret") for hook in webhooks))
        return webhooks

    def delete_webhook(self, webhook_id: Any) -> None:
        self.delete("webhook-endpoints", webhook_id)

    @staticmethod
    def verify_webhook(
        body: str | bytes, signature: str | None, secret: Credential = None, tolerance: float = 300
    ) -> dict[str, Any]:
        """Check a ``Robaws-Signature`` header over the raw body and return the event it signs.

        ``secret`` defaults to the ``webhook_secret`` setting (``ROBAWS_WEBHOOK_SECRET`` or the Vault);
        ``tolerance`` is the oldest signature accepted, in seconds.
        """
        key = require(
            arguments.credential(secret, "secret") or lookup(ROBAWS, "webhook_secret")[0],
            "The webhook secret",
            "ROBAWS_WEBHOOK_SECRET",
        )
        if not isinstance(body, (str, bytes)):
            raise ValidationError(f"body must be the raw request body (text or bytes), got {type(body).__name__}.")
        if signature is not None and not (isinstance(signature, str) and signature.isascii()):
            raise SignatureError("The Robaws-Signature header is malformed (not ASCII text).")
        verify_timestamped(key, body, signature, tolerance=arguments.number(tolerance, "tolerance", minimum=0))
        return event_of(body)

    idempotency_key_for = staticmethod(idempotency_key_for)
