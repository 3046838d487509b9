"""Cobot's API 2 OpenAPI spec as a validating layer: every request to ``COBOT_API_URL`` and its answer must conform.

``ValidatingSession`` is a ``requests.Session`` that checks each request it sends under the API 2 base and the
answer it gets against ``cobot-api2-openapi.yml`` (openapi-core) and records every violation. The spec's three
known defects, all in ``attach-invoice-pdf`` (see ``/work/shared/specs/README.md``), are read as meant: its path
parameter ``invoice_id`` as ``id``, its ``type: file`` as a binary string. Answers with a status the operation
does not document are accepted only for 401, 403, 404, 422 and 429 — statuses the spec's introduction gives for
every endpoint (errors, rate limits) — and only as a JSON:API ``failure`` document.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

SPEC_FILE = Path(__file__).with_name("cobot-api2-openapi.yml")
GENERIC_STATUSES = (401, 403, 404, 422, 429)
# Operations whose answer the spec describes in words only ("An invoice's PDF."): how to check it.
UNTYPED_ANSWERS = {
    "get-invoice-pdf": lambda response: response.status_code == 200 and response.content.startswith(b"%PDF-"),
}


@functools.lru_cache(maxsize=1)
def _loaded() -> dict[str, Any]:
    return yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))


def raw_spec() -> dict[str, Any]:
    import copy

    return copy.deepcopy(_loaded())


def _repair(spec: dict[str, Any]) -> dict[str, Any]:
    """The three documented defects of attach-invoice-pdf, read as meant (the only ``type: file`` in the spec)."""
    operation = spec["paths"]["/invoices/{id}/pdf"]["post"]
    for parameter in operation.get("parameters") or []:
        if parameter.get("in") == "path" and parameter.get("name") == "invoice_id":
            parameter["name"] = "id"

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "file":
                node["type"] = "string"
                node.setdefault("format", "binary")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(operation)
    walk(spec["components"])  # the PDF part is in a component schema the operation refers to
    return spec


def readable_spec(server: str) -> dict[str, Any]:
    """The spec with its known defects repaired, served at ``server``."""
    spec = _repair(raw_spec())
    spec["servers"] = [{"url": server.rstrip("/")}]
    return spec


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in _loaded()["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "delete", "patch"):
                yield method.upper(), path, operation


@functools.lru_cache(maxsize=1)
def _failure_schema() -> dict[str, Any]:
    spec = _loaded()
    return {**spec["components"]["schemas"]["failure"], "components": spec["components"]}


def is_failure(response: requests.Response) -> bool:
    """Whether an answer is a JSON:API error document as the spec's ``failure`` schema describes it."""
    try:
        body = response.json()
    except ValueError:
        return False
    schema = _failure_schema()
    resolver_schema = dict(schema)
    try:
        jsonschema.validate(body, _inline(resolver_schema, _loaded()))
    except jsonschema.ValidationError:
        return False
    return bool(body.get("errors"))


def _inline(node: Any, spec: dict[str, Any], depth: int = 0) -> Any:
    """``$ref``s to the spec's components replaced by their targets (the failure schema is small)."""
    if isinstance(node, dict):
        if "$ref" in node and depth < 20:
            target: Any = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _inline(target, spec, depth + 1)
        return {k: _inline(v, spec, depth + 1) for k, v in node.items() if k != "components"}
    if isinstance(node, list):
        return [_inline(v, spec, depth + 1) for v in node]
    return node


class ValidatingSession(requests.Session):
    """Validates every exchange under ``api_base`` against the spec; ``violations`` lists what it rejected."""

    def __init__(self, api_base: str) -> None:
        super().__init__()
        self.api_base = api_base.rstrip("/")
        self.openapi = OpenAPI.from_dict(readable_spec(self.api_base))
        self.violations: list[str] = []
        self.exchanges: list[tuple[str, str, int]] = []
        self.operations: set[str] = set()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = super().send(request, **kwargs)
        if str(request.url or "").startswith(self.api_base + "/"):
            self.check(request, response)
        return response

    def check(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        path = urlparse(str(request.url)).path
        where = f"{request.method} {path}"
        openapi_request = RequestsOpenAPIRequest(request)
        try:
            result = self.openapi.unmarshal_request(openapi_request)
            result.raise_for_errors()
        except Exception as error:  # openapi-core raises a family of errors; each one is a violation
            self.violations.append(f"request {where}: {_explain(error)}")
        self.exchanges.append((str(request.method), path, response.status_code))
        operation = operation_at(str(request.method), path[len(urlparse(self.api_base).path) :])
        if operation and response.status_code < 400:
            self.operations.add(operation)
        if operation in UNTYPED_ANSWERS and response.status_code < 400:
            # The spec gives no content for it, so openapi-core would judge it by /invoices/{id} (whose
            # template matches too): it must be what the spec's description says instead.
            if not UNTYPED_ANSWERS[operation](response):
                self.violations.append(f"response {response.status_code} to {where}: not what the spec describes")
            return
        try:
            self.openapi.validate_response(openapi_request, RequestsOpenAPIResponse(response))
        except Exception as error:
            if not (response.status_code in GENERIC_STATUSES and is_failure(response)):
                self.violations.append(f"response {response.status_code} to {where}: {_explain(error)}")


@functools.lru_cache(maxsize=1)
def _templates() -> list[tuple[str, re.Pattern[str], str]]:
    found = [
        (method, re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$"), str(op["operationId"]))
        for method, path, op in operations()
    ]
    # Literal paths before templated ones: /invoices/{id}.pdf is not /invoices/{id}.
    return sorted(found, key=lambda item: (item[1].pattern.count("[^/]+"), -len(item[1].pattern)))


def operation_at(method: str, path: str) -> str | None:
    """The operationId of ``method path`` (a path relative to the API base)."""
    for verb, pattern, operation_id in _templates():
        if verb == method and pattern.match(path):
            return operation_id
    return None


def _explain(error: Exception) -> str:
    cause = error.__cause__
    details = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None) or []
    inner = getattr(error, "errors", None) or []
    parts = [str(error), *[getattr(d, "message", str(d)) for d in details][:3], *[str(e) for e in inner][:3]]
    return "; ".join(p for p in parts if p)[-800:]
