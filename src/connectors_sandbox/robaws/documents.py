"""Robaws document endpoints: temp document buckets, uploads of up to 6 MB, upload sessions for larger
files in parts, and the documents tab of offers and work orders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse, Response

from connectors_sandbox.common import ApiError
from connectors_sandbox.pipeline import Call, allowed
from connectors_sandbox.robaws.bodies import base64_bytes, object_body, upload
from connectors_sandbox.robaws.files import MAX_FILE, Files
from connectors_sandbox.robaws.store import Store
from connectors_sandbox.robaws.webhooks import page

DOCUMENT_OWNERS = ("offers", "work-orders")


class Documents:
    def __init__(self, store: Store, files: Files, emit: Callable[[str, dict[str, Any]], None]) -> None:
        self.store = store
        self.files = files
        self.emit = emit

    async def create_bucket(self, call: Call[Any, Any]) -> Response:
        allowed(call, "POST")
        bucket = self.files.new_bucket()
        return JSONResponse({"id": bucket.id, "expires": bucket.expires}, status_code=201)

    async def show_bucket(self, call: Call[Any, Any]) -> Response:
        allowed(call, "GET")
        bucket = self.files.bucket(call.params["bucket_id"])
        return JSONResponse(
            {"id": bucket.id, "expires": bucket.expires, "documents": [d.public() for d in bucket.documents.values()]}
        )

    async def upload_document(self, call: Call[Any, Any]) -> Response:
        allowed(call, "POST")
        bucket_id = call.params["bucket_id"]
        self.files.bucket(bucket_id)
        file_name, content_type, content = await upload(call.request)
        document = self.files.add(bucket_id, file_name, content_type, content)
        self.emit("document.created", document.public())
        return JSONResponse(document.public(), status_code=201)

    async def create_session(self, call: Call[Any, Any]) -> Response:
        allowed(call, "POST")
        bucket_id = call.params["bucket_id"]
        self.files.bucket(bucket_id)
        session = self.files.new_session(bucket_id, await object_body(call.request))
        return JSONResponse(
            {
                "id": session.id,
                "partSize": MAX_FILE,
                "parts": session.part_count,
                "fileName": session.file_name,
                "fileSize": session.file_size,
            },
            status_code=201,
        )

    async def upload_part(self, call: Call[Any, Any]) -> Response:
        allowed(call, "POST")
        session_id = call.params["session_id"]
        if session_id not in self.files.sessions:
            raise ApiError(f"Unknown document upload session '{session_id}'", 404)
        body = await object_body(call.request)
        content = base64_bytes(body.get("bytesBase64"))
        session = self.files.sessions[session_id]
        was_complete = session.document_id is not None
        answer = self.files.add_part(session_id, body.get("partNumber"), content)
        if session.document_id is not None and not was_complete:
            document = self.files.find_unattached(session.document_id)
            if document is not None:
                self.emit("document.created", document.public())
        return JSONResponse(answer)

    async def entity_documents(self, call: Call[Any, Any]) -> Response:
        """``/offers/{id}/documents`` and ``/work-orders/{id}/documents``: list, or upload and attach."""
        allowed(call, "GET", "POST")
        name = call.params["collection"]
        entity = self.store.get(name, call.params["entity_id"])
        owner = f"{name}/{entity['id']}"
        if call.request.method in ("GET", "HEAD"):
            return JSONResponse(page([d.public() for d in self.files.attached.values() if d.attached_to == owner]))
        file_name, content_type, content = await upload(call.request)
        self.store.get(name, entity["id"])  # still there after the upload was read
        bucket = self.files.new_bucket()
        document = self.files.add(bucket.id, file_name, content_type, content)
        self.files.attach(document.id, owner)
        del self.files.buckets[bucket.id]
        self.emit("document.created", {**document.public(), "owner": owner})
        return JSONResponse(document.public(), status_code=201)
