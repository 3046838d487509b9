"""Robaws collections, entities and their sub-lists (contacts, line items): list, create, read, PUT,
both PATCH dialects, delete, and the purchase-invoice approval request.

Everything runs on uvicorn's single event loop: handlers never block, and the only ``await`` inside a
request is reading its body, so each check-then-write below is atomic with respect to other requests.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse, Response

from connectors_sandbox.common import ApiError
from connectors_sandbox.pipeline import Call, allowed
from connectors_sandbox.robaws.bodies import object_body, read_patch
from connectors_sandbox.robaws.documents import DOCUMENT_OWNERS, Documents
from connectors_sandbox.robaws.files import Files
from connectors_sandbox.robaws.store import (
    SINGULAR,
    Store,
    ValidationFailed,
    ignored_params,
    now_iso,
    parse_includes,
)
from connectors_sandbox.robaws.webhooks import page

log = logging.getLogger("connectors.sandbox.robaws")

# Sub-resources kept as lists inside their parent entity: /<collection>/{id}/<name>[/{subId}].
SUB_LISTS = {
    ("clients", "contacts"): "contacts",
    ("suppliers", "contacts"): "contacts",
    ("purchase-supply-orders", "line-items"): "lineItems",
}


class Entities:
    def __init__(
        self, store: Store, files: Files, documents: Documents, emit: Callable[[str, dict[str, Any]], None]
    ) -> None:
        self.store = store
        self.files = files
        self.documents = documents
        self._emit_event = emit

    def _emit(self, collection: str, action: str, entity: dict[str, Any]) -> None:
        singular = SINGULAR.get(collection)
        if singular:
            self._emit_event(f"{singular}.{action}", self.store.serialize(collection, entity, {"extraFields": {}}))

    def _entity_response(self, call: Call[Any, Any], name: str, entity: dict[str, Any], status: int = 200) -> Response:
        tree = parse_includes(call.request.query_params.get("include"))
        return JSONResponse(self.store.serialize(name, entity, tree), status_code=status)

    async def collection(self, call: Call[Any, Any]) -> Response:
        allowed(call, "GET", "POST")
        name = call.params["collection"]
        if call.request.method in ("GET", "HEAD"):
            ignored = ignored_params(name, call.request.query_params)
            if ignored:
                # Names only (values may be personal data); a server that does not know them ignores them.
                names = ", ".join(repr(param[:40]) for param in ignored[:10])
                log.info(f"robaws: GET /{name} ignores query parameters it does not document: {names}")
            return JSONResponse(self.store.query(name, call.request.query_params))
        body = await object_body(call.request)
        document = self._check_document(name, None, body)
        entity = self.store.insert(name, body)
        self._attach_document(name, entity, document)
        self._emit(name, "created", entity)
        response = self._entity_response(call, name, entity, 201)
        response.headers["Location"] = f"{call.request.url.path}/{entity['id']}"
        return response

    async def item(self, call: Call[Any, Any]) -> Response:
        allowed(call, "GET", "PUT", "PATCH", "DELETE")
        name, entity_id = call.params["collection"], call.params["entity_id"]
        method = call.request.method
        if method in ("GET", "HEAD"):
            return self._entity_response(call, name, self.store.get(name, entity_id))
        if method == "DELETE":
            entity = self.store.delete(name, entity_id)
            self._emit(name, "deleted", entity)
            return Response(status_code=204)
        # The body is read before the entity, so a concurrent write cannot be lost under this one.
        if method == "PUT":
            body = await object_body(call.request)
            current = self.store.get(name, entity_id)
        else:
            patch = await read_patch(call.request)
            current = self.store.get(name, entity_id)
            body = patch(current)
        document = self._check_document(name, current, body)
        entity = self.store.replace(name, entity_id, body)
        self._attach_document(name, entity, document)
        self._emit(name, "updated", entity)
        return self._entity_response(call, name, entity)

    def _check_document(self, name: str, current: dict[str, Any] | None, body: dict[str, Any]) -> str | None:
        """The documentId a purchase-invoice write newly attaches (validated before anything changes)."""
        if name != "purchase-invoices":
            return None
        new = body.get("documentId")
        if new is None or (current is not None and new == current.get("documentId")):
            return None
        if not isinstance(new, str) or self.files.find_unattached(new) is None:
            raise ValidationFailed(
                [
                    {
                        "field": "documentId",
                        "message": "Unknown documentId: upload the file to a temp document "
                        "bucket first (or it expired with its bucket)",
                    }
                ]
            )
        return new

    def _attach_document(self, name: str, entity: dict[str, Any], document_id: str | None) -> None:
        if document_id is not None:
            self.files.attach(document_id, f"{name}/{entity['id']}")

    async def start_approval(self, call: Call[Any, Any]) -> Response:
        allowed(call, "POST")
        invoice = self.store.get("purchase-invoices", call.params["entity_id"])
        if invoice.get("approvalStatus") == "PENDING":
            raise ApiError("An approval request is already pending for this purchase invoice", 409)
        invoice["approvalStatus"] = "PENDING"
        invoice["updatedAt"] = now_iso()
        self._emit("purchase-invoices", "updated", invoice)
        return self._entity_response(call, "purchase-invoices", invoice)

    # -- sub-resources: contacts, line items, entity documents -------------------------------------
    def _sub_list(self, call: Call[Any, Any]) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        name, sub = call.params["collection"], call.params["sub"]
        entity = self.store.get(name, call.params["entity_id"])
        field_name = SUB_LISTS.get((name, sub))
        if field_name is None:
            raise ApiError(f"Unknown path: {name} has no '{sub}'", 404)
        items = entity.setdefault(field_name, [])
        return name, entity, items

    async def sub_collection(self, call: Call[Any, Any]) -> Response:
        if call.params["collection"] in DOCUMENT_OWNERS and call.params["sub"] == "documents":
            return await self.documents.entity_documents(call)
        allowed(call, "GET", "POST")
        body = await object_body(call.request) if call.request.method == "POST" else {}
        name, entity, items = self._sub_list(call)
        if call.request.method in ("GET", "HEAD"):
            return JSONResponse(page(copy.deepcopy(items)))
        item = {k: v for k, v in body.items() if k != "id"}
        item["id"] = self.store.sub_id()
        items.append(item)
        entity["updatedAt"] = now_iso()
        self._emit(name, "updated", entity)
        return JSONResponse(item, status_code=201)

    async def sub_item(self, call: Call[Any, Any]) -> Response:
        allowed(call, "GET", "PUT", "PATCH", "DELETE")
        method = call.request.method
        replacement = await object_body(call.request) if method == "PUT" else None
        patch = await read_patch(call.request) if method == "PATCH" else None
        name, entity, items = self._sub_list(call)
        sub_id = call.params["sub_id"]
        index = next((i for i, item in enumerate(items) if str(item.get("id")) == sub_id), None)
        if index is None:
            raise ApiError(f"No {call.params['sub']} item with id {sub_id}", 404)
        if method in ("GET", "HEAD"):
            return JSONResponse(items[index])
        if method == "DELETE":
            items.pop(index)
        elif replacement is not None:
            items[index] = {**replacement, "id": items[index]["id"]}
        elif patch is not None:
            items[index] = {**patch(items[index]), "id": items[index]["id"]}
        entity["updatedAt"] = now_iso()
        self._emit(name, "updated", entity)
        return Response(status_code=204) if method == "DELETE" else JSONResponse(items[index])
