"""Pre-signed transfers, like S3: downloads and uploads that need no API key but expire.

Artifacts, work item files and asset contents are fetched through signed links; work item files
are uploaded with a signed multipart form (the ``form_data`` / ``fields`` of an upload slot), asset
contents with a signed PUT. A link is a bearer credential until it expires, so every signature is
registered with the sandbox's secret list (the secret-leak test greps outputs for it).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

Content = Callable[[], "bytes | None"]


class Storage:
    def __init__(self, remember_secret: Callable[..., None], ttl: Callable[[], float]) -> None:
        self._remember = remember_secret
        self._ttl = ttl
        self._downloads: dict[str, tuple[Content, float]] = {}
        self._uploads: dict[str, tuple[Callable[[bytes], None], int, str, float]] = {}
        self._puts: dict[str, tuple[Callable[[bytes, str], None], float]] = {}

    def clear(self) -> None:
        self._downloads.clear()
        self._uploads.clear()
        self._puts.clear()

    def _token(self) -> str:
        token = secrets.token_hex(20)
        self._remember(token)
        return token

    def download_url(self, base: str, name: str, content: Content) -> str:
        signature = self._token()
        self._downloads[signature] = (content, time.time() + self._ttl())
        return f"{base}/controlroom/_files/{name}?X-Amz-Expires={int(self._ttl())}&X-Amz-Signature={signature}"

    def upload_slot(self, base: str, key: str, size: int, store: Callable[[bytes], None]) -> tuple[str, dict[str, str]]:
        """A multipart POST target and the form fields to send with the file part."""
        policy = self._token()
        self._uploads[policy] = (store, size, key, time.time() + self._ttl())
        return f"{base}/controlroom/_uploads", {"key": key, "policy": policy}

    def put_url(self, base: str, store: Callable[[bytes, str], None]) -> str:
        signature = self._token()
        self._puts[signature] = (store, time.time() + self._ttl())
        return f"{base}/controlroom/_puts/{signature}"

    async def download(self, request: Request) -> Response:
        entry = self._downloads.get(request.query_params.get("X-Amz-Signature", ""))
        if entry is None:
            return s3_error(403, "AccessDenied", "The request signature does not match")
        if time.time() > entry[1]:
            return s3_error(403, "AccessDenied", "Request has expired")
        content = entry[0]()
        if content is None:
            return s3_error(404, "NoSuchKey", "The specified key does not exist")
        name = request.path_params["name"]
        return Response(
            content,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def upload(self, request: Request) -> Response:
        form = await request.form()
        slot = self._uploads.pop(str(form.get("policy") or ""), None)
        upload: Any = form.get("file")
        if slot is None or not hasattr(upload, "read"):
            return s3_error(403, "AccessDenied", "Invalid or already used upload policy")
        store, size, key, expires = slot
        if time.time() > expires:
            return s3_error(403, "AccessDenied", "Request has expired")
        if str(form.get("key")) != key:
            return s3_error(403, "AccessDenied", "The key does not match the upload policy")
        content = await upload.read()
        if len(content) != size:
            return s3_error(
                400,
                "EntityTooLarge" if len(content) > size else "IncompleteBody",
                f"Expected {size} bytes, got {len(content)}",
            )
        store(content)
        return Response(status_code=204)

    async def put(self, request: Request) -> Response:
        entry = self._puts.pop(request.path_params["token"], None)
        if entry is None:
            return s3_error(403, "AccessDenied", "Invalid or already used upload URL")
        if time.time() > entry[1]:
            return s3_error(403, "AccessDenied", "Request has expired")
        entry[0](await request.body(), request.headers.get("content-type", "application/octet-stream"))
        return Response(status_code=200)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_files/{name}", self.download, methods=["GET"]),
            Route("/_uploads", self.upload, methods=["POST"]),
            Route("/_puts/{token}", self.put, methods=["PUT"]),
        ]


def s3_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status_code=status, media_type="application/xml")
