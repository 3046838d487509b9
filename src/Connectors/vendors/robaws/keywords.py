"""Robot Framework keyword components of ``Library    Connectors.Robaws``.

Each component is a thin layer over ``RobawsClient``: it converts Robot Framework arguments,
wraps secrets in ``Secret`` and turns lazy iterators into lists bounded by ``limit``.
"""

from __future__ import annotations

from typing import Any

from robot.api.deco import keyword
from robot.api.types import Secret

from Connectors.core import arguments, log
from Connectors.core.errors import ValidationError
from Connectors.library import DEFAULT_LIST_LIMIT, KeywordComponent, collect
from Connectors.vendors.robaws.client import RobawsClient, idempotency_key_for
from Connectors.vendors.robaws.sync import Changes

Component = KeywordComponent[RobawsClient]


class RobawsModeKeywords(Component):
    @keyword(tags=["robaws", "connection"])
    def use_robaws_replica_mode(self) -> None:
        """Send the following requests to the read-only replica database (``Database-Mode: replica``).

        The replica has its own daily quota and suits bulk reads; writes fail until `Use Robaws Live Mode`.

        Example:
        | Use Robaws Replica Mode |
        | ${articles} = | List Robaws Resources | articles | limit=0 |
        | Use Robaws Live Mode |
        """
        self.client.use_replica_mode()

    @keyword(tags=["robaws", "connection"])
    def use_robaws_live_mode(self) -> None:
        """Send the following requests to the live database (the default; reads and writes).

        Example:
        | Use Robaws Live Mode |
        | Create Robaws Client | name=ACME NV |
        """
        self.client.use_live_mode()


class RobawsResourceKeywords(Component):
    @keyword(tags=["robaws", "read"])
    def list_robaws_resources(
        self,
        collection: str,
        limit: int | None = DEFAULT_LIST_LIMIT,
        sort: str | list[str] | None = None,
        include: str | list[str] | None = None,
        extra_fields: dict[str, Any] | None = None,
        page_size: int = 100,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """Return items of any Robaws collection, paging through ``page`` / ``size`` as needed.

        ``limit`` caps the number of items returned (default 1000; ``0`` returns all, which can be many
        requests on a large tenant). Pages are fetched only until ``limit`` items are found.
        ``sort`` is ``field:asc,other:desc``; ``include`` is ``employer,contacts`` or ``extraFields``
        (either may also be a list).
        Other named arguments are sent as filters. Robaws documents ``updatedFrom`` (most collections) and,
        on sales and purchase invoices, ``type``, ``fromDate`` and ``toDate``; a parameter Robaws does not
        know is ignored, not refused - so check what comes back rather than rely on an undocumented filter
        (there is none on a supplier's VAT number: see `Find Robaws Supplier By VAT Number`).
        ``extra_fields`` filters on extra fields by name: it is sent as ``extraFields[Name]=value``
        with the brackets and spaces URL-encoded; booleans become ``true`` / ``false``.
        ``collection`` may be nested, e.g. ``clients/42/contacts``.

        Example:
        | ${clients} = | List Robaws Resources | clients | limit=50 | sort=name:asc |
        | ${invoices} = | List Robaws Resources | purchase-invoices | type=INVOICE | fromDate=2024-01-01 |
        | &{by_field} = | Create Dictionary | Contact via=Social media |
        | ${found} = | List Robaws Resources | clients | extra_fields=${by_field} | include=extraFields |
        """
        items = self.client.list(
            collection,
            limit=limit,
            sort=sort,
            include=include,
            page_size=page_size,
            extra_fields=extra_fields,
            **filters,
        )
        return collect(items, limit)

    @keyword(tags=["robaws", "read"])
    def get_robaws_resource(
        self, collection: str, entity_id: int | str, include: str | list[str] | None = None
    ) -> dict[str, Any]:
        """Return one entity of any collection by id.

        Example:
        | ${client} = | Get Robaws Resource | clients | 42 |
        | ${client} = | Get Robaws Resource | clients | 42 | include=extraFields |
        """
        return self.client.get(collection, entity_id, include=include)

    @keyword(tags=["robaws", "write"])
    def create_robaws_resource(
        self,
        collection: str,
        body: dict[str, Any],
        idempotency_key: str | None = None,
        extra_fields: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create an entity in any collection and return it (with its new ``id``).

        ``extra_fields`` gives extra fields by name as plain values - a text, a whole number, a decimal,
        ``${True}``/``${False}`` or a date - and each is sent with its Robaws value key (``stringValue``,
        ``integerValue``, ``decimalValue``, ``booleanValue``, ``dateValue``). See `Extra fields`.

        ``idempotency_key`` makes a repeated call (a retry or a re-run robot) return the first result
        instead of creating a duplicate; derive it with `Make Robaws Idempotency Key`. Without it a
        fresh key is used for this call and reused on its retries.

        Example:
        | &{article} = | Create Dictionary | name=Heat pump | code=ART-9 |
        | ${created} = | Create Robaws Resource | articles | ${article} |
        | ${key} = | Make Robaws Idempotency Key | article | ART-9 |
        | ${same} = | Create Robaws Resource | articles | ${article} | idempotency_key=${key} |
        | &{extra} = | Create Dictionary | Weight kg=${2.5} | In stock=${True} |
        | ${created} = | Create Robaws Resource | articles | ${article} | extra_fields=${extra} |
        """
        return self.client.create(collection, body, idempotency_key, extra_fields)

    @keyword(tags=["robaws", "write"])
    def update_robaws_resource(
        self,
        collection: str,
        entity_id: int | str,
        changes: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        extra_fields: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Change some fields of an entity (JSON Merge Patch) and return the updated entity.

        Give the changes as a dictionary, as ``field=value`` arguments, or both (named arguments win).
        Fields not mentioned stay as they are; a ``None`` value clears a field. ``extra_fields`` changes
        extra fields by plain value (``None`` clears one); see `Extra fields`.

        Example:
        | ${client} = | Update Robaws Resource | clients | 42 | email=new@acme.be |
        | &{changes} = | Create Dictionary | email=new@acme.be | city=Gent |
        | ${client} = | Update Robaws Resource | clients | 42 | ${changes} |
        | &{extra} = | Create Dictionary | Contact via=Website |
        | ${client} = | Update Robaws Resource | clients | 42 | extra_fields=${extra} |
        """
        merged = arguments.merged(changes, fields, "changes")
        return self.client.update(collection, entity_id, merged or None, idempotency_key, extra_fields)

    @keyword(tags=["robaws", "write"])
    def patch_robaws_resource(
        self,
        collection: str,
        entity_id: int | str,
        operations: list[dict[str, Any]] | str,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Apply JSON Patch operations (RFC 6902) to an entity and return the updated entity.

        ``operations`` is a list of dictionaries or the same as a JSON string. Malformed operations
        fail before any request is sent.

        Example:
        | ${ops} = | Evaluate | [{"op": "replace", "path": "/email", "value": "x@acme.be"}] |
        | ${client} = | Patch Robaws Resource | clients | 42 | ${ops} |
        | ${client} = | Patch Robaws Resource | clients | 42 | [{"op": "remove", "path": "/city"}] |
        """
        if isinstance(operations, str):
            example = 'Write it like [{"op": "replace", "path": "/name", "value": "X"}].'
            operations = arguments.parsed_json(operations, "The JSON patch", example)
        return self.client.patch(collection, entity_id, operations, idempotency_key)  # type: ignore[arg-type]

    @keyword(tags=["robaws", "write"])
    def replace_robaws_resource(
        self,
        collection: str,
        entity_id: int | str,
        body: dict[str, Any],
        idempotency_key: str | None = None,
        extra_fields: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Replace a whole entity (PUT) and return it. Fields left out of ``body`` are cleared.

        Prefer `Update Robaws Resource` unless you really mean to replace everything.

        Example:
        | ${client} = | Get Robaws Resource | clients | 42 |
        | Set To Dictionary | ${client} | name=ACME Group |
        | ${client} = | Replace Robaws Resource | clients | 42 | ${client} |
        """
        return self.client.replace(collection, entity_id, body, idempotency_key, extra_fields)

    @keyword(tags=["robaws", "write"])
    def delete_robaws_resource(self, collection: str, entity_id: int | str) -> None:
        """Delete an entity.

        Example:
        | Delete Robaws Resource | clients | 42 |
        """
        self.client.delete(collection, entity_id)
        log.info(f"Deleted Robaws {collection} {entity_id}.")

    @keyword(tags=["robaws", "read"])
    def get_robaws_extra_fields(self, entity: dict[str, Any]) -> dict[str, Any]:
        """Return an entity's extra fields as plain values by name (no request is sent).

        Robaws answers with typed values (``{"Weight kg": {"decimalValue": 2.5}}``); this gives
        ``{"Weight kg": 2.5}`` - texts, whole numbers, decimals, booleans, and dates as ISO text. Read the
        entity with ``include=extraFields``: without it Robaws leaves them out (and this returns an empty
        dictionary).

        Example:
        | ${article} = | Get Robaws Resource | articles | 42 | include=extraFields |
        | ${extra} = | Get Robaws Extra Fields | ${article} |
        | Should Be Equal | ${extra}[Weight kg] | ${2.5} |
        """
        return self.client.extra_fields_of(entity)

    @keyword(tags=["robaws", "write"])
    def make_robaws_idempotency_key(self, *parts: Any) -> str:
        """Return a stable ``Idempotency-Key`` (at most 128 characters) made from business keys.

        The same parts always give the same key, so a re-run robot creates no duplicates. Include
        what the call does, so that different calls on the same work item get different keys.

        Example:
        | ${key} = | Make Robaws Idempotency Key | purchase-invoice | ${supplier_id} | ${invoice_number} |
        | Create Robaws Purchase Invoice | ${invoice} | idempotency_key=${key} |
        """
        return idempotency_key_for(*parts)


class RobawsBusinessKeywords(Component):
    @keyword(tags=["robaws", "write", "clients"])
    def create_robaws_client(
        self,
        client: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        extra_fields: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create a client (a customer) and return it. A client needs a ``name``.

        Give the fields as a dictionary, as named arguments, or both (named arguments win); extra fields
        as plain values in ``extra_fields`` (see `Extra fields`).

        Example:
        | ${client} = | Create Robaws Client | name=ACME NV | email=info@acme.be |
        | ${client} = | Create Robaws Client | ${client_data} | idempotency_key=${key} |
        | &{extra} = | Create Dictionary | Contact via=Website |
        | ${client} = | Create Robaws Client | name=ACME NV | extra_fields=${extra} |
        """
        merged = arguments.merged(client, fields, "client")
        return self.client.create_client(merged, idempotency_key, extra_fields)

    @keyword(tags=["robaws", "read", "clients"])
    def list_robaws_clients(
        self,
        limit: int | None = DEFAULT_LIST_LIMIT,
        extra_fields: dict[str, Any] | None = None,
        include: str | list[str] | None = None,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """Return the clients matching extra-field filters and ``updatedFrom`` (at most ``limit``; 0 = all).

        ``include=extraFields`` returns each client's extra fields as well. Robaws documents no other
        filter on clients: a name or a VAT number is matched on what comes back (see `List Robaws Resources`).

        Example:
        | ${clients} = | List Robaws Clients | updatedFrom=2024-06-01 |
        | &{via} = | Create Dictionary | Contact via=Website |
        | ${clients} = | List Robaws Clients | extra_fields=${via} | include=extraFields | limit=10 |
        """
        items = self.client.list_clients(limit=limit, extra_fields=extra_fields, include=include, **filters)
        return collect(items, limit)

    @keyword(tags=["robaws", "read", "suppliers"])
    def get_robaws_suppliers_by_vat_number(self) -> dict[str, list[dict[str, Any]]]:
        """Return every supplier, by VAT number (letters and digits, upper case), read once.

        Robaws documents no filter on a supplier's VAT number (a server ignores a parameter it does not
        know), so a robot reads the suppliers once per run - a request per 100 suppliers - and looks each
        invoice's supplier up with `Find Robaws Supplier By VAT Number`.

        Example:
        | ${suppliers} = | Get Robaws Suppliers By VAT Number |
        | ${supplier} = | Find Robaws Supplier By VAT Number | BE0400123450 | ${suppliers} |
        """
        return self.client.suppliers_by_vat_number()

    @keyword(tags=["robaws", "read", "suppliers"])
    def find_robaws_supplier_by_vat_number(
        self, vat_number: str, index: dict[str, list[dict[str, Any]]] | None = None
    ) -> dict[str, Any]:
        """Return the one supplier whose VAT number is ``vat_number``; fail when there is none or several.

        ``index`` is what `Get Robaws Suppliers By VAT Number` returned (without it the suppliers are
        read now). VAT numbers compare by their letters and digits: ``BE 0400.123.450`` is ``BE0400123450``.
        A supplier whose VAT number differs is never returned.

        Example:
        | ${supplier} = | Find Robaws Supplier By VAT Number | ${payload}[supplier][vatNumber] | ${suppliers} |
        | Set To Dictionary | ${invoice} | supplierId=${supplier}[id] |
        """
        return self.client.find_supplier_by_vat_number(vat_number, index)

    @keyword(tags=["robaws", "write", "purchase-invoices"])
    def create_robaws_purchase_invoice(
        self,
        invoice: dict[str, Any],
        idempotency_key: str | None = None,
        document: str | None = None,
        extra_fields: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a purchase invoice; with ``document`` (a file path) upload that file and attach it.

        The invoice needs a ``supplierId``. With an ``idempotency_key`` derived from the supplier
        invoice (or the work item) a re-run creates no second invoice and uploads no second document.

        Example:
        | &{inv} = | Create Dictionary | supplierId=${1} | number=INV-001 | date=2024-05-01 |
        | ${key} = | Make Robaws Idempotency Key | purchase-invoice | 1 | INV-001 |
        | ${created} = | Create Robaws Purchase Invoice | ${inv} | idempotency_key=${key} | document=${pdf} |
        | Should Not Be Empty | ${created}[documentId] |
        """
        return self.client.create_purchase_invoice(invoice, idempotency_key, document, extra_fields)

    @keyword(tags=["robaws", "write", "purchase-invoices"])
    def attach_document_to_robaws_purchase_invoice(
        self, invoice_id: int | str, document_id: str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Attach an uploaded document (see `Upload Robaws Document`) to a purchase invoice.

        Example:
        | ${document_id} = | Upload Robaws Document | ${CURDIR}/invoice.pdf |
        | ${invoice} = | Attach Document To Robaws Purchase Invoice | ${invoice_id} | ${document_id} |
        """
        return self.client.attach_document_to_purchase_invoice(invoice_id, document_id, idempotency_key)

    @keyword(tags=["robaws", "write", "purchase-invoices"])
    def start_robaws_purchase_invoice_approval(
        self, invoice_id: int | str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Start the approval request of a purchase invoice; return the invoice (``approvalStatus`` PENDING).

        Starting it twice fails with "already pending" unless the same ``idempotency_key`` is used.

        Example:
        | ${invoice} = | Start Robaws Purchase Invoice Approval | ${invoice_id} |
        | Should Be Equal | ${invoice}[approvalStatus] | PENDING |
        """
        return self.client.start_purchase_invoice_approval(invoice_id, idempotency_key)

    @keyword(tags=["robaws", "write", "sales-invoices"])
    def create_robaws_sales_invoice(
        self,
        invoice: dict[str, Any],
        idempotency_key: str | None = None,
        extra_fields: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a sales invoice and return it. The invoice needs a ``clientId``.

        Example:
        | &{invoice} = | Create Dictionary | clientId=${42} | date=2024-05-01 | type=INVOICE |
        | ${key} = | Make Robaws Idempotency Key | sales-invoice | cobot | ${cobot_invoice_id} |
        | ${created} = | Create Robaws Sales Invoice | ${invoice} | idempotency_key=${key} |
        """
        return self.client.create_sales_invoice(invoice, idempotency_key, extra_fields)

    @keyword(tags=["robaws", "read", "sales-invoices"])
    def list_robaws_sales_invoices(
        self, limit: int | None = DEFAULT_LIST_LIMIT, **filters: Any
    ) -> list[dict[str, Any]]:
        """Return sales invoices matching ``type`` (INVOICE, CREDIT_NOTE), ``fromDate``, ``toDate``, ``updatedFrom``.

        Those are the filters Robaws documents; pick an invoice's client out of the answer.

        At most ``limit`` invoices (default 1000, ``0`` = all).

        Example:
        | ${invoices} = | List Robaws Sales Invoices | type=INVOICE | fromDate=2024-01-01 |
        """
        return collect(self.client.list_sales_invoices(limit=limit, **filters), limit)

    @keyword(tags=["robaws", "write", "documents"])
    def upload_robaws_document(
        self, path: str, file_name: str | None = None, content_type: str | None = None, chunked: bool | None = None
    ) -> str:
        """Upload a file to a new temporary document bucket and return the document id.

        Files over 6 MB are sent in parts through an upload session. ``chunked=${False}`` forces one
        request (Robaws refuses files over 6 MB that way); ``chunked=${True}`` forces parts.
        Attach the id to an entity soon: unattached documents vanish with their bucket.

        Example:
        | ${document_id} = | Upload Robaws Document | ${CURDIR}/invoice.pdf |
        | ${id} = | Upload Robaws Document | ${scan} | file_name=INV-1.pdf | content_type=application/pdf |
        """
        return self.client.upload_document(path, file_name, content_type, chunked)


class RobawsNestedKeywords(Component):
    """Collections under an entity: contacts of clients and suppliers, line items of purchase supply
    orders, and an entity's documents tab. The generic keywords reach them too, as
    ``clients/${id}/contacts``."""

    @keyword(tags=["robaws", "read", "clients"])
    def list_robaws_client_contacts(
        self, client_id: int | str, limit: int | None = DEFAULT_LIST_LIMIT
    ) -> list[dict[str, Any]]:
        """Return the contact persons of a client (``clients/{id}/contacts``).

        Example:
        | ${contacts} = | List Robaws Client Contacts | ${client}[id] |
        """
        return collect(self.client.list_client_contacts(client_id, limit=limit), limit)

    @keyword(tags=["robaws", "write", "clients"])
    def create_robaws_client_contact(
        self,
        client_id: int | str,
        contact: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a contact person to a client and return it (with its ``id``).

        Give the fields as a dictionary, as named arguments, or both (named arguments win).

        Example:
        | ${contact} = | Create Robaws Client Contact | ${client}[id] | name=Jan | email=jan@acme.be |
        """
        merged = arguments.merged(contact, fields, "contact")
        return self.client.create_client_contact(client_id, merged, idempotency_key)

    @keyword(tags=["robaws", "read", "suppliers"])
    def list_robaws_supplier_contacts(
        self, supplier_id: int | str, limit: int | None = DEFAULT_LIST_LIMIT
    ) -> list[dict[str, Any]]:
        """Return the contact persons of a supplier (``suppliers/{id}/contacts``).

        Example:
        | ${contacts} = | List Robaws Supplier Contacts | ${supplier_id} |
        """
        return collect(self.client.list_supplier_contacts(supplier_id, limit=limit), limit)

    @keyword(tags=["robaws", "write", "suppliers"])
    def create_robaws_supplier_contact(
        self,
        supplier_id: int | str,
        contact: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a contact person to a supplier and return it (with its ``id``).

        Example:
        | ${contact} = | Create Robaws Supplier Contact | ${supplier_id} | name=Els | phone=+32 9 123 45 67 |
        """
        merged = arguments.merged(contact, fields, "contact")
        return self.client.create_supplier_contact(supplier_id, merged, idempotency_key)

    @keyword(tags=["robaws", "read", "supply-orders"])
    def list_robaws_supply_order_line_items(
        self, order_id: int | str, limit: int | None = DEFAULT_LIST_LIMIT
    ) -> list[dict[str, Any]]:
        """Return the line items of a purchase supply order (``purchase-supply-orders/{id}/line-items``).

        Example:
        | ${lines} = | List Robaws Supply Order Line Items | ${order_id} |
        """
        return collect(self.client.list_supply_order_line_items(order_id, limit=limit), limit)

    @keyword(tags=["robaws", "read", "supply-orders"])
    def get_robaws_supply_order_line_item(self, order_id: int | str, line_id: int | str) -> dict[str, Any]:
        """Return one line item of a purchase supply order.

        Example:
        | ${line} = | Get Robaws Supply Order Line Item | ${order_id} | ${line_id} |
        """
        return self.client.get_supply_order_line_item(order_id, line_id)

    @keyword(tags=["robaws", "write", "supply-orders"])
    def update_robaws_supply_order_line_item(
        self,
        order_id: int | str,
        line_id: int | str,
        changes: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Change some fields of a supply-order line item (JSON Merge Patch) and return it.

        Example:
        | ${line} = | Update Robaws Supply Order Line Item | ${order_id} | ${line_id} | quantity=${4} |
        """
        merged = arguments.merged(changes, fields, "changes")
        return self.client.update_supply_order_line_item(order_id, line_id, merged, idempotency_key)

    @keyword(tags=["robaws", "write", "documents"])
    def upload_robaws_document_to_entity(
        self,
        collection: str,
        entity_id: int | str,
        path: str,
        file_name: str | None = None,
        content_type: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Upload a file (at most 6 MB) to the documents tab of an entity, e.g. an offer or a work order,
        and return the document.

        Example:
        | ${document} = | Upload Robaws Document To Entity | offers | ${offer}[id] | ${CURDIR}/plan.pdf |
        | ${document} = | Upload Robaws Document To Entity | work-orders | 12 | ${photo} | file_name=site.jpg |
        """
        return self.client.upload_document_to_entity(
            collection, entity_id, path, file_name, content_type, idempotency_key
        )


class RobawsWebhookKeywords(Component):
    @keyword(tags=["robaws", "write", "webhooks"])
    def register_robaws_webhook(
        self, url: str, events: list[str] | str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Register a webhook endpoint and return it; its ``secret`` is a ``Secret`` (Robaws shows it once).

        ``events`` is a list or a comma-separated string. Keep the secret (e.g. in the Vault) to
        verify deliveries with `Verify Robaws Webhook Signature`. Only admin users may register.

        Example:
        | ${hook} = | Register Robaws Webhook | https://example.com/robaws | client.created, client.updated |
        | Verify Robaws Webhook Signature | ${body} | ${headers}[Robaws-Signature] | ${hook}[secret] |
        """
        created = self.client.register_webhook(url, events, idempotency_key)
        return _with_secret(created)

    @keyword(tags=["robaws", "read", "webhooks"])
    def list_robaws_webhooks(self) -> list[dict[str, Any]]:
        """Return the registered webhook endpoints.

        Example:
        | ${hooks} = | List Robaws Webhooks |
        | Length Should Be | ${hooks} | 1 |
        """
        return [_with_secret(hook) for hook in self.client.list_webhooks()]

    @keyword(tags=["robaws", "write", "webhooks"])
    def delete_robaws_webhook(self, webhook_id: str) -> None:
        """Delete a webhook endpoint by id.

        Example:
        | Delete Robaws Webhook | ${hook}[id] |
        """
        self.client.delete_webhook(webhook_id)

    @keyword(tags=["robaws", "webhooks"])
    def verify_robaws_webhook_signature(
        self, body: str | bytes, signature: str, secret: str | Secret | None = None, tolerance: float = 300
    ) -> dict[str, Any]:
        """Verify a delivery's ``Robaws-Signature`` header and return the parsed event.

        ``body`` is the raw request body exactly as received (not a re-serialised dictionary);
        ``signature`` the header's value; ``secret`` the endpoint's secret (default
        ``ROBAWS_WEBHOOK_SECRET``); ``tolerance`` how many seconds old the signature may be (replay
        protection). Fails with one line saying why when the signature is missing, stale or does not match.

        Example:
        | ${event} = | Verify Robaws Webhook Signature | ${body} | ${headers}[Robaws-Signature] | ${hook}[secret] |
        | Should Be Equal | ${event}[event] | client.updated |
        """
        return RobawsClient.verify_webhook(body, signature, secret, tolerance)


class RobawsSyncKeywords(Component):
    """Incremental sync: what changed since a named checkpoint, which advances when the test or task passes."""

    def __init__(self, library: Any) -> None:
        super().__init__(library)
        # Syncs read but not yet advanced, by checkpoint key; and whether each was read inside a test.
        self.pending: dict[str, tuple[Changes, bool]] = {}
        self.in_test = False
        self.listener = SyncListener(self)

    @keyword(tags=["robaws", "read"])
    def sync_robaws_resources(
        self, collection: str, checkpoint: str, limit: int | None = None, page_size: int = 100
    ) -> list[dict[str, Any]]:
        """Return the entities of ``collection`` created or updated since the last successful sync of
        ``checkpoint`` (the first sync returns them all).

        The checkpoint advances when the test or task that synced ends with PASS, or at once with
        `Advance Robaws Sync Checkpoint`; a failed or killed run leaves it where it was, so the next run
        gets the same changes again (at least once, none skipped). It is kept in the store named by
        ``CONNECTORS_THROTTLE_STORE`` (``sqlite:///path`` or ``redis://host:port/db``) - another worker or
        the next scheduled run continues from it; with the default in-memory store the keyword fails.
        Pages are read with ``updatedFrom``, reaching back by a safety window (60 s) and leaving out what
        was delivered already (by id and ``updatedAt``). ``limit`` takes at most that many changes: sync
        again in the same test for the next ones. A webhook event (see `Verify Robaws Webhook Signature`)
        makes a good trigger for a sync.

        Example:
        | ${changed} = | Sync Robaws Resources | clients | checkpoint=crm-export |
        | FOR | ${client} | IN | @{changed} |
        |  | Export Client | ${client} |
        | END |
        """
        changes = self.client.sync(collection, checkpoint, limit=limit, page_size=page_size)
        previous = self.pending.get(changes.key)
        if previous is not None:
            # A second batch before the first advanced: continue after it, not from the stored checkpoint.
            changes = self.client.sync(
                collection, checkpoint, limit=limit, page_size=page_size, after=previous[0].state()
            )
        items = list(changes)
        self.pending[changes.key] = (changes, self.in_test)
        log.info(
            f"{len(items)} Robaws {collection} created or updated since checkpoint {checkpoint!r}; it advances "
            "when this test or task passes (or with Advance Robaws Sync Checkpoint)."
        )
        return items

    @keyword(tags=["robaws", "write"])
    def advance_robaws_sync_checkpoint(self, checkpoint: str) -> None:
        """Advance ``checkpoint`` now to what `Sync Robaws Resources` returned, rather than when the test or
        task passes: the next sync starts after those changes.

        Example:
        | ${changed} = | Sync Robaws Resources | clients | checkpoint=crm-export |
        | Export Clients | ${changed} |
        | Advance Robaws Sync Checkpoint | crm-export |
        """
        keys = [key for key, (changes, _) in self.pending.items() if changes.checkpoint == checkpoint]
        if not keys:
            raise ValidationError(
                f"No sync of checkpoint {checkpoint!r} is waiting to advance.",
                hint="Call Sync Robaws Resources with this checkpoint first (it may have advanced already).",
            )
        for key in keys:
            changes, _ = self.pending.pop(key)
            changes.advance()
        log.info(f"Advanced Robaws sync checkpoint {checkpoint!r}.")

    def finish(self, inside_test: bool, passed: bool) -> None:
        """The test (or, for syncs outside tests, the suite) ended: advance its syncs if it passed."""
        for key, (changes, in_test) in list(self.pending.items()):
            if in_test != inside_test:
                continue
            del self.pending[key]
            if passed:
                changes.advance()
            else:
                log.info(f"Robaws sync checkpoint {changes.checkpoint!r} not advanced: the run did not pass.")


class SyncListener:
    """Advances the checkpoints of `Sync Robaws Resources` when the test or task that synced passes."""

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, keywords: RobawsSyncKeywords) -> None:
        self.keywords = keywords

    def start_test(self, data: Any, result: Any) -> None:
        self.keywords.in_test = True

    def end_test(self, data: Any, result: Any) -> None:
        self.keywords.in_test = False
        self.keywords.finish(True, bool(result.passed))

    def end_suite(self, data: Any, result: Any) -> None:
        self.keywords.finish(False, bool(result.passed))


def _with_secret(webhook: dict[str, Any]) -> dict[str, Any]:
    secret = webhook.get("secret")
    if isinstance(secret, str):
        return {**webhook, "secret": Secret(secret)}
    return webhook
