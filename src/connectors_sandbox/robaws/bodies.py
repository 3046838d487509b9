"""Reading Robaws request bodies: JSON objects, the two PATCH dialects, base64 parts and file uploads."""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from connectors_sandbox.common import ApiError, json_body
from connectors_sandbox.robaws.files import MAX_FILE, TOO_LARGE
from connectors_sandbox.robaws.store import apply_json_patch, merge_patch

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"

Patch = Callable[[dict[str, Any]], dict[str, Any]]


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def object_body(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError("The request body must be a JSON object")
    return body


async def read_patch(request: Request) -> Patch:
    """Read a PATCH body (merge patch or JSON patch); returns what applies it to the current entity."""
    media = media_type(request)
    if media not in (MERGE_PATCH, JSON_PATCH):
        raise ApiError(
            f"PATCH needs Content-Type {MERGE_PATCH} or {JSON_PATCH}, got {media or 'none'}",
            415,
        )
    document = await json_body(request)
    if media == MERGE_PATCH and not isinstance(document, dict):
        raise ApiError("A JSON merge patch must be a JSON object")

    def apply(current: dict[str, Any]) -> dict[str, Any]:
        if media == MERGE_PATCH:
            result = merge_patch(copy.deepcopy(current), document)
        else:
            result = apply_json_patch(copy.deepcopy(current), document)
        if not isinstance(result, dict):
            raise ApiError("The patched entity must stay a JSON object")
        return result

    return apply


def base64_bytes(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ApiError("bytesBase64 must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("bytesBase64 is not valid base64")


async def upload(request: Request) -> tuple[str, str, bytes]:
    """A file from multipart/form-data (field ``file``) or JSON {fileName, contentType, bytesBase64}."""
    media = media_type(request)
    length = request.headers.get("content-length", "")
    if length.isdigit() and media == "multipart/form-data" and int(length) > MAX_FILE + 64 * 1024:
        raise ApiError(TOO_LARGE, 413)
    if media == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10) as form:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise ApiError("multipart/form-data needs the file in a field named 'file'")
            return (file.filename or "file", file.content_type or "application/octet-stream", await file.read())
    if media in ("application/json", ""):
        body = await object_body(request)
        name = body.get("fileName")
        if not isinstance(name, str) or not name:
            raise ApiError("fileName is required")
        return name, str(body.get("contentType") or "application/octet-stream"), base64_bytes(body.get("bytesBase64"))
    raise ApiError(f"Upload a file as multipart/form-data or JSON, not {media}", 415)
