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
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import requests

from Connectors.core import arguments, log
from Connectors.core.checkpoints import open_checkpoints
from Connectors.core.config import Credential, require
from Connectors.core.errors import ConfigurationError, ConnectorError, NotFound, UncertainOutcome, ValidationError
from Connectors.core.paging import page_number_fetcher, paginate
from Connectors.core.paths import build, segments
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
    extra_fields_body,
    plain_extra_fields,
    validate_json_patch,
)
from Connectors.vendors.robaws.sync import SAFETY_WINDOW_SECONDS, Changes, SyncState

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
    """``/<collection>/<id>…``: a collection may be nested (``clients/42/contacts``), each of its segments
    checked and encoded on its own; each id is one segment. The leading slash is only for the messages:
    errors read "GET /clients/42"."""
    return build(segments(collection, "collection"), *((value, "entity_id") for value in ids))


# How long before its announced expiry a bucket is replaced (an upload and its attach must fit in it),
# and how long one is used when its answer announces no expiry.
BUCKET_MARGIN_SECONDS = 300.0
BUCKET_DEFAULT_SECONDS = 1800.0


def _bucket_lifetime(expires: Any) -> float:
    """Seconds to keep using a bucket whose answer said ``expires`` (ISO date-time, e.g. ...Z)."""
    try:
        moment = datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
    except ValueError:
        return BUCKET_DEFAULT_SECONDS
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, moment.timestamp() - time.time() - BUCKET_MARGIN_SECONDS)


def vat_key(vat_number: Any) -> str:
    """A VAT number as compared: letters and digits only, upper case ("BE 0400.123.450" = "BE0400123450")."""
    return "".join(char for char in str(vat_number or "") if char.isascii() and char.isalnum()).upper()


def _nested(collection: str, owner_id: Any, argument: str, sub: str, *ids: Any) -> str:
    """``/<collection>/<owner id>/<sub>[/<id>]``: the owner's id named as the caller knows it."""
    return build(collection, (owner_id, argument), sub, *((value, "line_id") for value in ids))


def _upload_file(
    path: str | os.PathLike[str], file_name: str | None, content_type: str | None
) -> tuple[Path, str, str]:
    """The file to upload, its name and its media type, checked before anything is sent."""
    source = arguments.existing_file(path, "path")
    # Both go into the multipart part's headers: one line each, or a value could add a header.
    name = arguments.optional_text(file_name, "file_name", max_length=255) or source.name
    ctype = (
        arguments.optional_text(content_type, "content_type", max_length=255)
        or mimetypes.guess_type(name)[0]
        or "application/octet-stream"
    )
    return source, name, ctype


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
        self._bucket: tuple[str, float] | None = None  # (id, when to stop using it): see upload_document
        self._bucket_lock = threading.Lock()
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

    def _entity(self, body: Any, path: str) -> Entity:
        if isinstance(body, dict):
            return body
        # Robaws may answer a PATCH with 204 and no body: read the entity back.
        answer = self._call("GET", path)
        return answer if isinstance(answer, dict) else {}

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
        """Yield the items of ``collection`` (``clients``, or nested: ``clients/42/contacts``), fetching
        pages (``page`` / ``size``) only as they are consumed."""
        path = _path(collection)
        query = build_query(sort=sort, include=include, extra_fields=extra_fields, filters=filters)
        return self._list_at(path, limit, page_size, query)

    def _list_at(
        self, path: str, limit: int | None = None, page_size: int = MAX_PAGE_SIZE, base: Sequence[tuple[str, str]] = ()
    ) -> Iterator[dict[str, Any]]:
        """The items at ``path`` with the query ``base`` (``build_query``), page after page as they are consumed."""
        page_size = arguments.whole_number(page_size, "page_size", minimum=1, maximum=MAX_PAGE_SIZE)
        limit = arguments.limit(limit)
        if limit is not None:
            # No point in fetching a full page of 100 for the first 5 items.
            page_size = min(page_size, limit)

        def get_page(number: int, size: int) -> dict[str, Any]:
            query = encode_query([*base, ("page", number), ("size", size)])
            body = self._call("GET", f"{path}?{query}")
            if isinstance(body, builtins.list):
                return {"items": body, "totalPages": 1}
            return body if isinstance(body, dict) else {"items": []}

        return paginate(page_number_fetcher(get_page, size=page_size), 0, limit)

    def get(self, collection: str, entity_id: Any, *, include: str | Sequence[str] | None = None) -> Entity:
        return self._get_at(_path(collection, entity_id), include)

    def _get_at(self, path: str, include: str | Sequence[str] | None = None) -> Entity:
        query = build_query(include=include)
        if query:
            path += "?" + encode_query(query)
        body = self._call("GET", path)
        return body if isinstance(body, dict) else {}

    def create(
        self,
        collection: str,
        body: Mapping[str, Any],
        idempotency_key: str | None = None,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> Entity:
        """POST a new entity; the answer (201) is the created entity with its integer ``id``.

        ``extra_fields`` are plain values by field name (text, whole number, decimal, True/False, date),
        sent as Robaws' typed values (``{"Name": {"stringValue": …}}``)."""
        path = _path(collection)
        fields = extra_fields_body(arguments.mapping(body, "body"), extra_fields, keep_none=False)
        return self._create_at(path, fields, idempotency_key)

    def _create_at(self, path: str, fields: dict[str, Any], idempotency_key: str | None) -> Entity:
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
        self,
        collection: str,
        entity_id: Any,
        changes: Mapping[str, Any] | None,
        idempotency_key: str | None = None,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """JSON Merge Patch: only the given fields change (``None`` clears a field); ``extra_fields`` as
        plain values (``None`` clears one)."""
        path = _path(collection, entity_id)
        given = {} if changes is None and extra_fields is not None else changes
        fields = arguments.mapping(given, "changes", allow_empty=extra_fields is not None)
        return self._update_at(path, extra_fields_body(fields, extra_fields, keep_none=True), idempotency_key)

    def _update_at(self, path: str, fields: dict[str, Any], idempotency_key: str | None) -> Entity:
        body = self._call(
            "PATCH", path, json=fields, headers={"Content-Type": MERGE_PATCH}, idempotency_key=idempotency_key
        )
        return self._entity(body, path)

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
        return self._entity(body, path)

    def replace(
        self,
        collection: str,
        entity_id: Any,
        body: Mapping[str, Any],
        idempotency_key: str | None = None,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """PUT: the entity becomes exactly ``body`` (fields left out are cleared)."""
        path = _path(collection, entity_id)
        fields = extra_fields_body(arguments.mapping(body, "body"), extra_fields, keep_none=False)
        answer = self._call("PUT", path, json=fields, idempotency_key=idempotency_key)
        return self._entity(answer, path)

    extra_fields_of = staticmethod(plain_extra_fields)

    def delete(self, collection: str, entity_id: Any) -> None:
        self._send("DELETE", _path(collection, entity_id))

    # -- incremental sync ---------------------------------------------------------------------------
    def sync(
        self,
        collection: str,
        checkpoint: str,
        *,
        limit: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
        window: float = SAFETY_WINDOW_SECONDS,
        after: SyncState | None = None,
    ) -> Changes:
        """The entities of ``collection`` created or updated since checkpoint ``checkpoint`` (see ``sync.py``).

        The checkpoint is kept in the store ``CONNECTORS_THROTTLE_STORE`` names (SQLite or Redis; memory
        fails in one line), so another worker or the next run continues from it. It moves when the changes
        were handled: ``changes.advance()``, or a ``with`` block that ends without an exception::

            with robaws.sync("clients", checkpoint="crm") as changes:
                for client in changes:
                    handle(client)

        ``after`` starts from a state not yet written (a second batch before the first was advanced).
        """
        path = _path(collection)
        name = arguments.text(checkpoint, "checkpoint", max_length=200)
        limit = arguments.limit(limit)
        page_size = arguments.whole_number(page_size, "page_size", minimum=1, maximum=MAX_PAGE_SIZE)
        window = arguments.number(window, "window", minimum=0)
        store = open_checkpoints(self.settings.text("throttle_store"), "A Robaws sync")
        key = f"robaws-sync:{self.url}:{path}:{name}"
        start = after if after is not None else SyncState.load(store.get(key))
        return Changes(
            self, path, store, name, key, start, page_size=page_size, window=timedelta(seconds=window), limit=limit
        )

    # -- nested collections: contacts, supply-order line items, an entity's documents tab -------------
    def list_client_contacts(self, client_id: Any, limit: int | None = None) -> Iterator[Entity]:
        """The contacts of a client (``clients/{id}/contacts``)."""
        return self._list_at(_nested("clients", client_id, "client_id", "contacts"), limit)

    def create_client_contact(
        self, client_id: Any, contact: Mapping[str, Any], idempotency_key: str | None = None
    ) -> Entity:
        """Add a contact person to a client; the answer is the contact with its ``id``."""
        fields = arguments.mapping(contact, "contact", allow_empty=False)
        return self._create_at(_nested("clients", client_id, "client_id", "contacts"), fields, idempotency_key)

    def list_supplier_contacts(self, supplier_id: Any, limit: int | None = None) -> Iterator[Entity]:
        """The contacts of a supplier (``suppliers/{id}/contacts``)."""
        return self._list_at(_nested("suppliers", supplier_id, "supplier_id", "contacts"), limit)

    def create_supplier_contact(
        self, supplier_id: Any, contact: Mapping[str, Any], idempotency_key: str | None = None
    ) -> Entity:
        """Add a contact person to a supplier; the answer is the contact with its ``id``."""
        fields = arguments.mapping(contact, "contact", allow_empty=False)
        return self._create_at(_nested("suppliers", supplier_id, "supplier_id", "contacts"), fields, idempotency_key)

    def list_supply_order_line_items(self, order_id: Any, limit: int | None = None) -> Iterator[Entity]:
        """The line items of a purchase supply order (``purchase-supply-orders/{id}/line-items``)."""
        return self._list_at(_nested("purchase-supply-orders", order_id, "order_id", "line-items"), limit)

    def get_supply_order_line_item(self, order_id: Any, line_id: Any) -> Entity:
        """One line item (``purchase-supply-orders/{id}/line-items/{lineId}``)."""
        return self._get_at(_nested("purchase-supply-orders", order_id, "order_id", "line-items", line_id))

    def update_supply_order_line_item(
        self, order_id: Any, line_id: Any, changes: Mapping[str, Any], idempotency_key: str | None = None
    ) -> Entity:
        """Change some fields of a line item (JSON Merge Patch) and return it."""
        fields = arguments.mapping(changes, "changes", allow_empty=False)
        path = _nested("purchase-supply-orders", order_id, "order_id", "line-items", line_id)
        return self._update_at(path, fields, idempotency_key)

    def upload_document_to_entity(
        self,
        collection: str,
        entity_id: Any,
        path: str | os.PathLike[str],
        file_name: str | None = None,
        content_type: str | None = None,
        idempotency_key: str | None = None,
    ) -> Entity:
        """Upload a file to an entity's documents tab (``offers/{id}/documents``, also work orders) in one
        multipart request (field ``file``, at most 6 MB) and return the document."""
        target = _path(collection, entity_id, "documents")
        source, name, ctype = _upload_file(path, file_name, content_type)
        size = source.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"{source.name} has {size} bytes: an entity's documents tab takes at most {MAX_UPLOAD_MB} MB.",
                vendor=self.vendor,
                hint="Upload a smaller file, or upload it in parts with Upload Robaws Document and attach it.",
            )
        answer = self._call(
            "POST", target, files={"file": (name, source.read_bytes(), ctype)}, idempotency_key=idempotency_key
        )
        log.info(f"Uploaded {name} ({size} bytes) to Robaws {collection} {entity_id}.")
        return answer if isinstance(answer, dict) else {}

    # -- clients ------------------------------------------------------------------------------------
    def create_client(
        self,
        client: Mapping[str, Any],
        idempotency_key: str | None = None,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        client = extra_fields_body(arguments.mapping(client, "client"), extra_fields, keep_none=False)
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
        """Clients matching extra-field filters and ``updatedFrom`` (lazily, like ``list``); Robaws ignores
        filters it does not document."""
        return self.list("clients", limit=limit, extra_fields=extra_fields, include=include, **filters)

    #: The name before the keyword surface settled on one listing verb (``List Robaws Clients``).
    find_clients = list_clients

    # -- suppliers ----------------------------------------------------------------------------------
    def suppliers_by_vat_number(self) -> dict[str, builtins.list[Entity]]:
        """Every supplier, by VAT number (``vat_key``: letters and digits, upper case).

        Robaws documents no filter on a supplier's VAT number, and a server ignores a parameter it does not
        know, so this reads the collection once (a request per 100 suppliers) for a run to look each
        invoice's supplier up in (``find_supplier_by_vat_number``).
        """
        index: dict[str, builtins.list[Entity]] = {}
        for supplier in self.list("suppliers", limit=None):
            key = vat_key(supplier.get("vatNumber"))
            if key:
                index.setdefault(key, []).append(supplier)
        return index

    def find_supplier_by_vat_number(
        self, vat_number: str, index: Mapping[str, Sequence[Entity]] | None = None
    ) -> Entity:
        """The one supplier whose VAT number is ``vat_number`` (compared by ``vat_key``), from ``index``
        (``suppliers_by_vat_number``; read now when not given). None or several fail in one line."""
        wanted = vat_key(arguments.text(vat_number, "vat_number", max_length=50))
        if index is None:
            index = self.suppliers_by_vat_number()
        elif not isinstance(index, Mapping):
            raise ValidationError(
                f"index must be the dictionary Get Robaws Suppliers By VAT Number returns, got {type(index).__name__}."
            )
        found = [s for s in index.get(wanted) or () if isinstance(s, Mapping) and vat_key(s.get("vatNumber")) == wanted]
        if len(found) != 1:
            raise ValidationError(
                f"Expected one Robaws supplier with VAT number {vat_number}, found {len(found)}.",
                hint="Add the supplier in Robaws (or merge the duplicates), then run the invoice again.",
            )
        return dict(found[0])

    # -- purchase invoices --------------------------------------------------------------------------
    def create_purchase_invoice(
        self,
        invoice: Mapping[str, Any],
        idempotency_key: str | None = None,
        document: str | os.PathLike[str] | None = None,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a purchase invoice and, when ``document`` is a file, upload it and create the invoice
        with it attached (``documentId`` in the create: two requests, no separate attach).

        The steps share one idempotency key (the caller's, else one kept for this call until it
        succeeds), so repeating the call - a re-run robot, or ``Wait Until Keyword Succeeds`` after any
        failure - creates no second invoice and uploads no second document: Robaws replays the upload
        and the create.
        """
        invoice = extra_fields_body(arguments.mapping(invoice, "invoice"), extra_fields, keep_none=False)
        idempotency_key = _key(idempotency_key)
        if invoice.get("supplierId") in (None, ""):
            raise ValidationError(
                "A Robaws purchase invoice needs a supplierId.",
                vendor=self.vendor,
                hint="Look the supplier up first (List Robaws Resources    suppliers).",
            )
        if document is not None:
            document = arguments.existing_file(document, "document")
            if invoice.get("documentId") not in (None, ""):
                raise ValidationError(
                    "The invoice has a documentId and a document to upload: give one of them.",
                    vendor=self.vendor,
                    hint="Leave documentId out to upload the document, or leave document out to keep documentId.",
                )
        operation = self.transport.write_id("create_purchase_invoice", "/purchase-invoices", [invoice, document])
        with self._safe_to_repeat(operation, idempotency_key) as key:
            if document is None:
                return self.create("purchase-invoices", invoice, key)
            # The upload's key derives from the invoice's: on a repeat it replays the same document id, and
            # the create (replayed too, or made now if it never was) carries that id.
            document_id = self.upload_document(document, idempotency_key=_sub_key(key, "document"))
            return self.create("purchase-invoices", {**invoice, "documentId": document_id}, key)

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
        return self._entity(body, _path("purchase-invoices", invoice_id))

    # -- sales invoices -----------------------------------------------------------------------------
    def create_sales_invoice(
        self,
        invoice: Mapping[str, Any],
        idempotency_key: str | None = None,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> Entity:
        invoice = extra_fields_body(arguments.mapping(invoice, "invoice"), extra_fields, keep_none=False)
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
        """Upload a file into this client's temporary bucket and return its document id.

        A bucket holds many documents, so the client creates one and uploads into it until it is close to
        expiring (attaching a document takes it out of the bucket). Files up to 6 MB go in one multipart
        request; larger ones through an upload session, read and sent one part at a time so a large file is
        never held in memory whole. ``chunked`` forces one way or the other (``None`` chooses by size).
        With ``idempotency_key`` every step gets a key derived from it, so a repeat replays the same document.
        """
        source, name, ctype = _upload_file(path, file_name, content_type)
        chunked = arguments.optional_flag(chunked, "chunked")
        size = source.stat().st_size
        try:
            return self._upload_into(self._document_bucket(), source, name, size, ctype, chunked, idempotency_key)
        except NotFound:
            # The bucket expired or was removed before we thought: once more in a new one.
            self._bucket = None
            return self._upload_into(self._document_bucket(), source, name, size, ctype, chunked, idempotency_key)

    def _document_bucket(self) -> str:
        """The bucket uploads go to: created on first use, replaced a while before it expires."""
        with self._bucket_lock:
            if self._bucket is None or time.time() >= self._bucket[1]:
                answer = self._call("POST", "/temp-document-buckets", json={})
                self._bucket = (str(answer["id"]), time.time() + _bucket_lifetime(answer.get("expires")))
            return self._bucket[0]

    def _upload_into(
        self,
        bucket: str,
        source: Path,
        name: str,
        size: int,
        ctype: str,
        chunked: bool | None,
        idempotency_key: str | None,
    ) -> str:
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
