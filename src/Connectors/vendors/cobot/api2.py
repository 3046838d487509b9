"""Cobot's API 2 (JSON:API at ``COBOT_API_URL``, default ``https://api.cobot.me``), by Cobot's OpenAPI spec.

Every call names an operation of the generated table (``operations.py``) and gives its parameters by the
spec's names; the table builds the path (each value one encoded segment) and refuses unknown or missing
parameters before anything is sent. Requests carry ``Accept: application/vnd.api+json`` (and that
``Content-Type`` with a body), go through the client's one transport (the same throttle: Cobot's 60
requests a minute are per user, whichever API), and answers are flattened by ``jsonapi``. Collections are
read lazily, ``page[size]`` at a time, for as long as ``links.next`` (or ``meta.totalPages``) says more
follow. A 403 names the scope the operation needs. A space given by subdomain is resolved to its API 2
id once per client, from ``GET /user?include=adminOf,memberOf``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from Connectors.core import arguments
from Connectors.core.errors import (
    ConfigurationError,
    PermissionDenied,
    TransportError,
    UncertainOutcome,
    UnexpectedResponse,
    ValidationError,
)
from Connectors.core.operations import Operation
from Connectors.core.paging import Page, paginate
from Connectors.vendors.cobot import jsonapi
from Connectors.vendors.cobot.operations import OPERATIONS

if TYPE_CHECKING:
    from Connectors.vendors.cobot.client import CobotClient

MEDIA_TYPE = "application/vnd.api+json"
PRODUCTION = "https://api.cobot.me"
PAGE_SIZE = 200  # the spec's maximum: fewest requests per item
# Cobot's JSON:API bodies are a resource or two; a bigger one is a mistake (a file read into a field), so it
# is refused here rather than sent to be refused (or stored).
MAX_BODY = 1_000_000
Record = dict[str, Any]


def scope_hint(operation: Operation) -> str:
    """The 403 hint of an operation: the scope(s) its token needs, from the spec."""
    scopes = operation.scope.split()
    if not scopes:
        return "The user may not do this in the space (an admin's permissions may have been reduced)."
    flags = " ".join(f"--scope {scope}" for scope in scopes)
    return (
        f"The token lacks the scope {' and '.join(scopes)} that {operation.id} needs, or the user may not do this "
        f"in the space: log in again with it, e.g. 'connectors login cobot {flags}'."
    )


class Api2:
    """API 2 calls of one ``CobotClient`` (its transport, settings and default space)."""

    def __init__(self, client: CobotClient) -> None:
        self.client = client
        self.base_url = (client.settings.text("api_url") or PRODUCTION).rstrip("/")
        # COBOT_URL pointed elsewhere (a sandbox, a proxy) with COBOT_API_URL left at Cobot's production API:
        # that token is not for api.cobot.me, so API 2 calls refuse instead of sending it there.
        self.unset = (
            client.settings.source("api_url") == "the default"
            and urlsplit(client.url).hostname != urlsplit(client.profile.default_url).hostname
        )
        self._space_ids: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- one request --------------------------------------------------------------------------
    def request(
        self,
        operation_id: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        accept: str = MEDIA_TYPE,
        error_context: str = "",
    ) -> requests.Response:
        """Send the operation; ``parameters`` by the spec's names, ``params`` extra query (paging, fields)."""
        operation = OPERATIONS[operation_id]
        path, query = operation.split(dict(parameters or {}))
        if self.unset:
            raise ConfigurationError(
                f"COBOT_URL points at {self.client.url}, but COBOT_API_URL is not set, so API 2 ({operation_id}) would "
                f"go to {PRODUCTION}.",
                hint="Set COBOT_API_URL too (the sandbox prints it: <COBOT_URL>/api2), or api=1 for API 1 keywords.",
            )
        query = {name: _query_value(value) for name, value in query.items()}
        query.update({name: value for name, value in (params or {}).items() if value is not None})
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = MEDIA_TYPE
            body = arguments.mapping(body, "body", allow_empty=False, from_json=True)
            size = len(json.dumps(body).encode())
            if size > MAX_BODY:
                raise ValidationError(
                    f"body has {size} bytes; Cobot API 2 bodies are JSON:API resources of at most {MAX_BODY} here.",
                    hint="Send the resource's attributes, not file contents (attach files with their own operation).",
                )
        try:
            return self.client.transport.request(
                operation.method,
                self.base_url + path,
                params=query or None,
                json=body,
                headers=headers,
                error_context=error_context,
            )
        except PermissionDenied as error:
            # The operation's own scope, from the spec's table, says more than the profile's general 403 hint.
            raise error.replace(hint=scope_hint(operation)) from None
        except (TransportError, UnexpectedResponse) as error:
            if isinstance(error, UncertainOutcome):
                raise
            # The transport names COBOT_URL; API 2's address is the other setting.
            raise error.replace(
                hint=f"Check COBOT_API_URL (now {self.base_url}): it should point at Cobot's API 2, "
                "and that it is reachable."
            ) from None

    def document(self, operation_id: str, parameters: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """The decoded JSON:API document of an operation (``None`` for an empty answer)."""
        response = self.request(operation_id, parameters, **kwargs)
        try:
            return self.client.transport.decode(response, response.request.method or "", response.request.url or "")
        except UnexpectedResponse as error:
            raise error.replace(hint=f"Check COBOT_API_URL (now {self.base_url}): it should point at Cobot's API 2.")

    def one(self, operation_id: str, parameters: Mapping[str, Any] | None = None, **kwargs: Any) -> Record:
        return jsonapi.record(self.document(operation_id, parameters, **kwargs))

    def pages(
        self,
        operation_id: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        limit: int | None = None,
        params: Mapping[str, Any] | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Iterator[Record]:
        """The items of a collection, page after page as the consumer reaches them (at most ``limit``)."""
        size = max(1, min(PAGE_SIZE, page_size if limit in (None, 0) else min(page_size, int(limit or 0))))

        def fetch(number: Any) -> Page[Record]:
            page = int(number or 1)
            query = {**(params or {}), "page[number]": page, "page[size]": size}
            document = self.document(operation_id, parameters, params=query)
            return Page(jsonapi.records(document), page + 1 if jsonapi.has_next(document, page) else None)

        return paginate(fetch, 1, limit or None)

    # -- spaces ---------------------------------------------------------------------------------
    def space_id(self, space: str | None = None) -> str:
        """The API 2 id of a space given by subdomain (or the default space), resolved once per client."""
        given = arguments.optional_text(space, "space", max_length=200) or self.client.default_space
        if not given:
            raise ConfigurationError(
                "No Cobot space was given.", hint="Pass space=<subdomain> or set COBOT_SPACE (see List Cobot Spaces)."
            )
        name = given.lower()
        with self._lock:
            known = self._space_ids.get(name)
        if known:
            return known
        user = self.document("get-user", {"include": "adminOf,memberOf"})
        found = {
            str(item.get("subdomain", "")).lower(): str(item["id"])
            for item in jsonapi.records({"data": (user or {}).get("included") or []})
            if item.get("type") == "spaces"
        }
        with self._lock:
            self._space_ids.update(found)
        if name in found:
            return found[name]
        if name in found.values():  # an API 2 id given as it is
            return name
        raise ConfigurationError(
            f"The Cobot user is neither an admin nor a member of a space {given!r}.",
            hint=f"Use one of: {', '.join(sorted(found)) or 'none found'} (the subdomain, as in List Cobot Spaces).",
        )


def _query_value(value: Any) -> Any:
    """Query values as the spec takes them: lists comma-separated (its "Query params" rule)."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return value
