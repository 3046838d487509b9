"""Control Room's OpenAPI spec as a validating layer: every ``/api/v1`` request and answer must conform.

``ValidatingSession`` is a ``requests.Session`` that checks each request it sends to ``…/api/v1/…`` and
the answer it gets against the spec (with openapi-core) and records every violation. Answers with a
status the operation does not document are accepted only for 401, 404 and 429 — statuses any
authenticated HTTP API gives — and only with the spec's ``genericErrorResponse`` body.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

SPEC_FILE = Path(__file__).with_name("controlroom-openapi-v1.json")
GENERIC_STATUSES = (401, 404, 429)
API_PREFIX = "/api/v1/"


def raw_spec() -> dict[str, Any]:
    return json.loads(SPEC_FILE.read_text(encoding="utf-8"))


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node and len(node) <= 2:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _closed(spec: dict[str, Any], variant: Any) -> Any:
    schema = _resolve(spec, variant)
    if isinstance(schema, dict) and schema.get("properties") and not schema.get("required"):
        return dict(copy.deepcopy(schema), additionalProperties=False)
    return variant


def readable_spec(server: str) -> dict[str, Any]:
    """The spec with overlapping ``oneOf`` lists read as ``anyOf`` (open variants closed), served at ``server``."""
    spec = raw_spec()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "oneOf" in node:
                node["anyOf"] = [_closed(spec, v) for v in node.pop("oneOf")]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    spec["servers"] = [{"url": server.rstrip("/")}]
    return spec


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in raw_spec()["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "delete", "patch"):
                yield method.upper(), path, operation


def scope_of(operation: dict[str, Any]) -> str:
    scopes = [s for entry in operation.get("security") or [] for s in next(iter(entry.values()), [])]
    return scopes[0] if scopes else ""


class ValidatingSession(requests.Session):
    """Validates every ``/api/v1`` exchange against the spec; ``violations`` lists what it rejected."""

    def __init__(self, api_base: str) -> None:
        super().__init__()
        self.api_base = api_base.rstrip("/")
        self.openapi = OpenAPI.from_dict(readable_spec(self.api_base))
        self.violations: list[str] = []
        self.exchanges: list[tuple[str, str, int]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = super().send(request, **kwargs)
        url = str(request.url or "")
        if url.startswith(self.api_base + "/"):
            self.check(request, response)
        return response

    def check(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        where = f"{request.method} {urlparse(str(request.url)).path}"
        openapi_request = RequestsOpenAPIRequest(request)
        try:
            self.openapi.validate_request(openapi_request)
        except Exception as error:  # openapi-core raises a family of errors; each one is a violation
            self.violations.append(f"request {where}: {_explain(error)}")
        self.exchanges.append((str(request.method), urlparse(str(request.url)).path, response.status_code))
        try:
            self.openapi.validate_response(openapi_request, RequestsOpenAPIResponse(response))
        except Exception as error:
            if not (response.status_code in GENERIC_STATUSES and _generic_error(response)):
                self.violations.append(f"response {response.status_code} to {where}: {_explain(error)}")


def _generic_error(response: requests.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    return (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
        and set(body) == {"error"}
    )


def _explain(error: Exception) -> str:
    cause = error.__cause__
    details = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None) or []
    parts = [str(error), *[getattr(d, "message", str(d)) for d in details][:3]]
    return "; ".join(p for p in parts if p)
