"""Robaws temp document buckets, documents and chunked document upload sessions."""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from connectors_sandbox.common import ApiError

MAX_FILE = 6 * 1024 * 1024
BUCKET_TTL = 3600.0
TOO_LARGE = "File is larger than 6 MB: use a document upload session"


@dataclass
class Document:
    id: str
    file_name: str
    content_type: str
    content: bytes
    bucket: str | None
    attached_to: str | None = None

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "fileName": self.file_name, "size": len(self.content), "contentType": self.content_type}

    def admin(self) -> dict[str, Any]:
        return {
            **self.public(),
            "sha256": hashlib.sha256(self.content).hexdigest(),
            "bucket": self.bucket,
            "attachedTo": self.attached_to,
        }


@dataclass
class Bucket:
    id: str
    expires_at: float
    documents: dict[str, Document] = field(default_factory=dict)

    @property
    def expires(self) -> str:
        moment = datetime.fromtimestamp(self.expires_at, timezone.utc)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class UploadSession:
    id: str
    bucket: str
    file_name: str
    file_size: int
    content_type: str
    chunks: list[bytes] = field(default_factory=list)
    received: int = 0
    next_part: int = 0
    last_part: bytes | None = None
    document_id: str | None = None

    @property
    def part_count(self) -> int:
        return max(1, math.ceil(self.file_size / MAX_FILE))


class Files:
    def __init__(self) -> None:
        self.buckets: dict[str, Bucket] = {}
        self.sessions: dict[str, UploadSession] = {}
        self.attached: dict[str, Document] = {}

    def clear(self) -> None:
        self.buckets.clear()
        self.sessions.clear()
        self.attached.clear()

    def _expire(self) -> None:
        # Unattached files vanish with their bucket, like in Robaws.
        now = time.time()
        for key in [k for k, b in self.buckets.items() if b.expires_at <= now]:
            del self.buckets[key]

    def new_bucket(self) -> Bucket:
        self._expire()
        bucket = Bucket(str(uuid.uuid4()), time.time() + BUCKET_TTL)
        self.buckets[bucket.id] = bucket
        return bucket

    def bucket(self, bucket_id: str) -> Bucket:
        self._expire()
        bucket = self.buckets.get(bucket_id)
        if bucket is None:
            raise ApiError(f"Unknown or expired temp document bucket '{bucket_id}'", 404)
        return bucket

    def add(self, bucket_id: str, file_name: str, content_type: str, content: bytes) -> Document:
        if len(content) > MAX_FILE:
            raise ApiError(TOO_LARGE, 413)
        return self._store(bucket_id, file_name, content_type, content)

    def _store(self, bucket_id: str, file_name: str, content_type: str, content: bytes) -> Document:
        bucket = self.bucket(bucket_id)
        document = Document(
            str(uuid.uuid4()), file_name or "file", content_type or "application/octet-stream", content, bucket.id
        )
        bucket.documents[document.id] = document
        return document

    def new_session(self, bucket_id: str, body: Any) -> UploadSession:
        bucket = self.bucket(bucket_id)
        if not isinstance(body, dict):
            raise ApiError("Send a JSON object with fileName, fileSize and optionally contentType")
        name, size = body.get("fileName"), body.get("fileSize")
        if not isinstance(name, str) or not name:
            raise ApiError("fileName is required")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ApiError("fileSize must be a positive number of bytes")
        session = UploadSession(
            str(uuid.uuid4()), bucket.id, name, size, str(body.get("contentType") or "application/octet-stream")
        )
        self.sessions[session.id] = session
        return session

    def add_part(self, session_id: str, part_number: Any, content: bytes) -> dict[str, Any]:
        """Append a part; the part that completes the file puts the document into the bucket."""
        session = self.sessions.get(session_id)
        if session is None:
            raise ApiError(f"Unknown document upload session '{session_id}'", 404)
        if not isinstance(part_number, int) or isinstance(part_number, bool):
            raise ApiError("partNumber must be a whole number starting at 0")
        if len(content) > MAX_FILE:
            raise ApiError(f"Part is larger than 6 MB: send parts of at most {MAX_FILE} bytes", 413)
        if part_number == session.next_part - 1 and content == session.last_part:
            # The same part sent again because its answer was lost: answer as before, store nothing twice.
            return self._part_answer(session, part_number)
        if session.document_id is not None:
            raise ApiError("This upload session is complete: start a new session for another file")
        if part_number != session.next_part:
            raise ApiError(f"Wrong partNumber {part_number}: expected part {session.next_part}")
        if session.received + len(content) > session.file_size:
            raise ApiError(f"Part {part_number} goes beyond the announced fileSize of {session.file_size} bytes")
        session.chunks.append(content)
        session.received += len(content)
        session.next_part += 1
        session.last_part = content
        if session.received == session.file_size:
            document = self._store(session.bucket, session.file_name, session.content_type, b"".join(session.chunks))
            session.chunks = []
            session.document_id = document.id
        return self._part_answer(session, part_number)

    @staticmethod
    def _part_answer(session: UploadSession, part_number: int) -> dict[str, Any]:
        answer: dict[str, Any] = {"partNumber": part_number, "received": session.received}
        if session.document_id is not None:
            answer["documentId"] = session.document_id
        return answer

    def find_unattached(self, document_id: str) -> Document | None:
        self._expire()
        for bucket in self.buckets.values():
            if document_id in bucket.documents:
                return bucket.documents[document_id]
        return None

    def attach(self, document_id: Any, owner: str) -> Document:
        document = self.find_unattached(document_id) if isinstance(document_id, str) else None
        if document is None:
            raise ApiError("Unknown documentId: upload the file to a temp document bucket first")
        assert document.bucket is not None
        del self.buckets[document.bucket].documents[document.id]
        document.bucket = None
        document.attached_to = owner
        self.attached[document.id] = document
        return document

    def all_documents(self) -> list[dict[str, Any]]:
        docs = [d for b in self.buckets.values() for d in b.documents.values()] + list(self.attached.values())
        return [d.admin() for d in docs]
