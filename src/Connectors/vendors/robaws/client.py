"""``RobawsClient``: the Robaws API v2 (``<ROBAWS_URL>/api/v2``) as typed Python methods.

Everything goes through the core ``Transport``: the client-side token bucket (15/s, burst 20) and
daily quota, the ``Idempotency-Key`` header on every POST/PUT/PATCH (reused on retries), retries
and errors. This module only knows Robaws: paths, the paging envelope, the query encoding of
extra-field filters, document buckets and upload sessions, approval requests and webhooks.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import json
import mimetypes
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urljoin

import requests

from Connectors.core import log
from Connectors.core.auth import Auth, BasicAuth, OAuth2Auth
from Connectors.core.config import RateSpec, env, require, secret_value
from Connectors.core.errors import ConfigurationError, ValidationError
from Connectors.core.paging import page_number_fetcher, paginate
from Connectors.core.redact import redactor
from Connectors.core.throttle import RateLimitHeaders
from Connectors.core.tokens import TokenStore
from Connectors.core.vault import get_secret
from Connectors.core.webhooks import verify_timestamped
from Connectors.vendors.base import BaseClient

DEFAULT_URL = "https://app.robaws.com"
DEFAULT_RATE = RateSpec(15, 1, burst=20)
DEFAULT_DAILY_QUOTA = 10_000
MAX_PAGE_SIZE = 100
# Robaws takes at most 6 MB in one upload request; larger files go in parts of at most this size.
MAX_UPLOAD_BYTES = 6 * 1024 * 1024
MAX_IDEMPOTENCY_KEY = 128
LIVE, REPLICA = "live", "replica"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
RATE_HEADERS = RateLimitHeaders(
    remaining="X-RateLimit-Remaining",
    daily_remaining="X-RateLimit-Daily-Remaining",
    daily_limit="X-RateLimit-Daily-Limit",
    daily_reset="X-RateLimit-Daily-Reset",
)
Entity = dict[str, Any]
_JSON_PATCH_OPS = {"add", "remove", "replace", "move", "copy", "test"}


# -- query encoding ---------------------------------------------------------------------------------
def query_value(value: Any) -> str:
    """A filter value as Robaws expects it: booleans ``true|false``, dates ISO, lists comma-separated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(query_value(item) for item in value)
    return str(value)


def build_query(
    *,
    sort: str | Sequence[str] | None = None,
    include: str | Sequence[str] | None = None,
    extra_fields: Mapping[str, Any] | None = None,
    filters: Mapping[str, Any] | None = None,
) -> builtins.list[tuple[str, str]]:
    """The query pairs of a list call: standard filters, ``extraFields[Name]`` filters, sort, include.

    ``None`` filter values are left out, so optional robot arguments can be passed through as-is.
    """
    pairs: list[tuple[str, str]] = []
    for name, value in (filters or {}).items():
        if name in ("page", "size"):
            raise ConfigurationError(
                f"Do not pass '{name}' as a filter.",
                hint="Paging is automatic: use limit (how many items in total) and page_size.",
            )
        if value is not None:
            pairs.append((name, query_value(value)))
    for name, value in (extra_fields or {}).items():
        if value is not None:
            pairs.append((f"extraFields[{name}]", query_value(value)))
    if sort:
        pairs.append(("sort", sort if isinstance(sort, str) else ",".join(sort)))
    if include:
        pairs.append(("include", include if isinstance(include, str) else ",".join(include)))
    return pairs


def encode_query(pairs: Iterable[tuple[str, Any]]) -> str:
    """Percent-encode keys and values, ``[`` / ``]`` and spaces included (``%5B``, ``%5D``, ``%20``).

    Robaws documents ``extraFields%5BName%5D=value``; encoding here rather than through
    ``requests``' form encoding keeps spaces as ``%20`` instead of ``+``.
    """
    return urlencode([(str(k), str(v)) for k, v in pairs], quote_via=quote, safe="")


# -- idempotency ------------------------------------------------------------------------------------
def idempotency_key_for(*parts: Any) -> str:
    """A stable ``Idempotency-Key`` (at most 128 characters) derived from business keys.

    The same parts always give the same key, so a re-run robot replays its earlier requests
    instead of creating duplicates. The readable prefix helps when reading logs; the hash makes
    the key unique even when the prefix is cut short or the parts contain separators.
    """
    if not parts or all(str(part) == "" for part in parts):
        raise ConfigurationError(
            "An idempotency key needs at least one non-empty business key.",
            hint="Pass e.g. the work item id or the supplier invoice number.",
        )
    canonical = json.dumps([str(part) for part in parts], ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(str(part) for part in parts)).strip("-")[:80]
    return f"{readable}-{digest}" if readable else digest


def _check_key(key: str | None) -> str | None:
    if key is None or key == "":
        return None
    key = str(key)
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise ConfigurationError(
            f"The idempotency key has {len(key)} characters; Robaws accepts at most {MAX_IDEMPOTENCY_KEY}.",
            hint="Derive a short stable key with 'Make Robaws Idempotency Key' (idempotency_key_for()).",
        )
    return key


def _sub_key(key: str | None, step: str) -> str | None:
    # A follow-up request of one business operation gets its own key, derived from the caller's.
    return None if key is None else idempotency_key_for(key, step)


# -- errors -----------------------------------------------------------------------------------------
def robaws_error_message(response: requests.Response) -> str:
    """Robaws errors are ``{"message": ..., "errors": [{"field", "message"}]}``: keep both parts."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    if not isinstance(body, dict):
        return json.dumps(body)[:300]
    message = str(body.get("message") or body.get("error_description") or body.get("error") or "")
    details = []
    for item in body.get("errors") or []:
        if isinstance(item, dict):
            field, text = item.get("field"), item.get("message") or item.get("defaultMessage")
            details.append(f"{field}: {text}" if field else str(text))
        else:
            details.append(str(item))
    if details:
        detail_text = "; ".join(details)
        message = f"{message} ({detail_text})" if message else detail_text
    return message[:500]


def _hints(auth: Auth) -> dict[int, str]:
    if isinstance(auth, OAuth2Auth):
        unauthorized = (
            f"The OAuth2 token was refused even after a refresh: run 'connectors login robaws' "
            f"again (token store {auth.store.path}, key {auth.key!r})."
        )
    else:
        unauthorized = (
            "Check ROBAWS_USERNAME and ROBAWS_PASSWORD (or the Vault secret named by "
            "CONNECTORS_VAULT_SECRET), or connect with OAuth after 'connectors login robaws'."
        )
    return {
        401: unauthorized,
        403: (
            "The API user's role (or the OAuth token's scope) lacks this module: give the role access "
            "to it in Robaws, or log in again requesting the scope."
        ),
        404: "Check the collection name (e.g. clients, purchase-invoices) and the id.",
        405: "Writes need live mode: call 'Use Robaws Live Mode' (use_live_mode()) first.",
        409: (
            "A request with the same idempotency key is still running, or the operation is already "
            "in progress (e.g. a pending approval): wait, then check the entity's state."
        ),
        413: (
            f"Robaws takes at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB in one request: upload the file "
            "with 'Upload Robaws Document' without chunked=False, so it goes in parts."
        ),
        415: "Robaws PATCH needs Content-Type application/merge-patch+json or application/json-patch+json.",
        429: (
            "Robaws may block integrations that hit 429 often: lower ROBAWS_RATE_LIMIT, share the throttle "
            "between parallel robots (CONNECTORS_THROTTLE_STORE) or read in replica mode."
        ),
    }


def _base_url(url: str) -> str:
    root = url.rstrip("/")
    # Accept the API base as well as the site URL.
    if root.endswith("/api/v2"):
        root = root[: -len("/api/v2")]
    return root


def _daily_quota(value: int | str | None) -> int | None:
    text = value if value not in (None, "") else env("ROBAWS_DAILY_QUOTA", str(DEFAULT_DAILY_QUOTA))
    if str(text).strip().lower() in ("0", "none", "off", "unlimited"):
        return None
    try:
        return int(str(text))
    except ValueError:
        raise ConfigurationError(
            f"Invalid daily quota {text!r}.", hint="Set ROBAWS_DAILY_QUOTA to a number of requests per day, or 'none'."
        )


def resolve_auth(
    url: str,
    *,
    username: str | None = None,
    password: Any = None,
    client_id: str | None = None,
    client_secret: Any = None,
    token_store: str | os.PathLike[str] | None = None,
    vault_secret: str | None = None,
) -> Auth:
    """Pick the credentials: arguments, then a named Vault secret, then ``ROBAWS_*`` variables.

    Order: explicit username/password (Basic) → explicit OAuth arguments → ``vault_secret`` →
    ``ROBAWS_USERNAME`` / ``ROBAWS_PASSWORD`` → the Vault secret named by ``CONNECTORS_VAULT_SECRET``
    → ``ROBAWS_CLIENT_ID`` / ``ROBAWS_CLIENT_SECRET`` with the token store.
    """
    password_text = secret_value(password)
    secret_text = secret_value(client_secret)
    if username or password_text:
        return _basic(username or env("ROBAWS_USERNAME"), password_text or secret_value(env("ROBAWS_PASSWORD")))
    if client_id or secret_text or token_store:
        return _oauth(
            url,
            client_id or env("ROBAWS_CLIENT_ID"),
            secret_text or secret_value(env("ROBAWS_CLIENT_SECRET")),
            token_store,
        )
    if vault_secret:
        return _from_vault(url, vault_secret, token_store)
    if env("ROBAWS_USERNAME") or env("ROBAWS_PASSWORD"):
        return _basic(env("ROBAWS_USERNAME"), secret_value(env("ROBAWS_PASSWORD")))
    named = env("CONNECTORS_VAULT_SECRET")
    if named:
        return _from_vault(url, named, token_store)
    if env("ROBAWS_CLIENT_ID"):
        return _oauth(url, env("ROBAWS_CLIENT_ID"), secret_value(env("ROBAWS_CLIENT_SECRET")), token_store)
    raise ConfigurationError(
        "No Robaws credentials are configured.",
        hint="Set ROBAWS_USERNAME and ROBAWS_PASSWORD, or ROBAWS_CLIENT_ID and ROBAWS_CLIENT_SECRET with a "
        "token store ('connectors login robaws'), or name a Vault secret with CONNECTORS_VAULT_SECRET.",
    )


def _basic(username: str | None, password: str | None) -> BasicAuth:
    return BasicAuth(
        require(username, "The Robaws username", "ROBAWS_USERNAME"),
        require(password, "The Robaws password", "ROBAWS_PASSWORD"),
    )


def _oauth(
    url: str, client_id: str | None, client_secret: str | None, token_store: str | os.PathLike[str] | None
) -> OAuth2Auth:
    client_id = require(client_id, "The Robaws OAuth client id", "ROBAWS_CLIENT_ID")
    client_secret = require(client_secret, "The Robaws OAuth client secret", "ROBAWS_CLIENT_SECRET")
    location = token_store or env("CONNECTORS_TOKEN_STORE")
    store = TokenStore(os.fspath(location) if location else None)
    return OAuth2Auth(store, token_store_key(client_id), f"{url}/oauth2/tokens", client_id, client_secret)


def token_store_key(client_id: str) -> str:
    """Where ``connectors login robaws`` keeps the tokens of an OAuth client."""
    return f"robaws:{client_id}"


def _from_vault(url: str, name: str, token_store: str | os.PathLike[str] | None) -> Auth:
    values = get_secret(name)
    if values.get("username") or values.get("password"):
        return BasicAuth(
            require(values.get("username"), f"'username' in Vault secret {name!r}", "username"),
            require(values.get("password"), f"'password' in Vault secret {name!r}", "password"),
        )
    if values.get("client_id"):
        return _oauth(url, values.get("client_id"), values.get("client_secret"), token_store)
    raise ConfigurationError(
        f"Vault secret {name!r} holds no Robaws credentials.",
        hint="Give it the keys username and password, or client_id and client_secret.",
    )


def _path(collection: str, *parts: Any) -> str:
    name = str(collection).strip().strip("/")
    if not name or "?" in name or "#" in name:
        raise ConfigurationError(
            f"Invalid Robaws collection {collection!r}.",
            hint="Use a collection name such as clients or purchase-invoices.",
        )
    # The leading slash is only for the messages: errors read "GET /clients/42".
    return "/" + "/".join([name, *(quote(str(part), safe="") for part in parts)])


class RobawsClient(BaseClient):
    """The Robaws API v2 for Python tasks (``from Connectors import RobawsClient``).

    With no arguments it reads ``ROBAWS_URL``, ``ROBAWS_USERNAME`` / ``ROBAWS_PASSWORD`` (or the
    OAuth client and token store, or a Vault secret) and the ``ROBAWS_RATE_LIMIT`` / ``_RATE_BURST``
    and ``ROBAWS_DAILY_QUOTA`` overrides.
    """

    vendor = "Robaws"
    env_prefix = "ROBAWS"

    def __init__(
        self,
        url: str | None = None,
        *,
        username: str | None = None,
        password: Any = None,
        client_id: str | None = None,
        client_secret: Any = None,
        token_store: str | os.PathLike[str] | None = None,
        vault_secret: str | None = None,
        rate_limit: str | RateSpec | None = None,
        burst: int | str | None = None,
        daily_quota: int | str | None = None,
        timeout: float | tuple[float, float] | None = None,
        throttle_store: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        root = _base_url(url or env("ROBAWS_URL", DEFAULT_URL) or DEFAULT_URL)
        auth = resolve_auth(
            root,
            username=username,
            password=password,
            client_id=client_id,
            client_secret=client_secret,
            token_store=token_store,
            vault_secret=vault_secret,
        )
        super().__init__(
            base_url=f"{root}/api/v2",
            auth=auth,
            default_rate=DEFAULT_RATE,
            rate_limit=rate_limit,
            burst=burst,
            daily_quota=_daily_quota(daily_quota),
            quota_scopes=(LIVE, REPLICA),
            rate_headers=RATE_HEADERS,
            throttle_store=throttle_store,
            timeout=timeout,
            idempotency_header="Idempotency-Key",
            error_message=robaws_error_message,
            hints=_hints(auth),
            session=session,
        )
        self.url = root
        self.mode = LIVE

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
    def _request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        send = dict(headers or {})
        if self.mode == REPLICA:
            send["Database-Mode"] = REPLICA
        return self.transport.request(method, path, headers=send, quota_scope=self.mode, **kwargs)

    def _json(self, response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ValidationError(
                f"Robaws answered {response.status_code} with a body that is not JSON.",
                vendor=self.vendor,
                method=str(getattr(response.request, "method", "") or ""),
                path=_path_of(response),
                hint="Check ROBAWS_URL: it should be the Robaws site, e.g. https://app.robaws.com.",
            )

    def _entity(self, response: requests.Response, collection: str, entity_id: Any) -> dict[str, Any]:
        body = self._json(response)
        if isinstance(body, dict):
            return body
        # Robaws may answer a PATCH with 204 and no body: read the entity back.
        return self.get(collection, entity_id)

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
        """Yield the items of ``collection``, fetching pages (``page`` / ``size``) only as they are consumed."""
        page_size = int(page_size)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ConfigurationError(
                f"page_size {page_size} is out of range.", hint=f"Robaws pages hold 1 to {MAX_PAGE_SIZE} items."
            )
        if limit is not None:
            limit = int(limit)
            # No point in fetching a full page of 100 for the first 5 items.
            page_size = max(1, min(page_size, limit))
        path = _path(collection)
        base = build_query(sort=sort, include=include, extra_fields=extra_fields, filters=filters)

        def get_page(number: int, size: int) -> dict[str, Any]:
            query = encode_query([*base, ("page", number), ("size", size)])
            body = self._json(self._request("GET", f"{path}?{query}"))
            if isinstance(body, builtins.list):
                return {"items": body, "totalPages": 1}
            return body if isinstance(body, dict) else {"items": []}

        return paginate(page_number_fetcher(get_page, size=page_size), 0, limit)

    def get(self, collection: str, entity_id: Any, *, include: str | Sequence[str] | None = None) -> Entity:
        path = _path(collection, entity_id)
        if include:
            path += "?" + encode_query(build_query(include=include))
        body = self._json(self._request("GET", path))
        return body if isinstance(body, dict) else {}

    def create(self, collection: str, body: Mapping[str, Any], idempotency_key: str | None = None) -> Entity:
        """POST a new entity; the answer (201) is the created entity with its integer ``id``."""
        response = self._request(
            "POST", _path(collection), json=dict(body), idempotency_key=_check_key(idempotency_key)
        )
        created = self._json(response)
        if isinstance(created, dict):
            return created
        location = response.headers.get("Location")
        if location:
            # Location may be host-relative ("/api/v2/clients/7"): resolve it against the request URL.
            return self._json(self._request("GET", urljoin(response.url or self.base_url, location))) or {}
        return {}

    def update(
        self, collection: str, entity_id: Any, changes: Mapping[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """JSON Merge Patch: only the given fields change (``None`` clears a field)."""
        response = self._request(
            "PATCH",
            _path(collection, entity_id),
            json=dict(changes),
            headers={"Content-Type": MERGE_PATCH},
            idempotency_key=_check_key(idempotency_key),
        )
        return self._entity(response, collection, entity_id)

    def patch(
        self,
        collection: str,
        entity_id: Any,
        operations: Sequence[Mapping[str, Any]],
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """JSON Patch (RFC 6902): a list of ``{"op", "path", "value"}`` operations."""
        ops = validate_json_patch(operations)
        response = self._request(
            "PATCH",
            _path(collection, entity_id),
            json=ops,
            headers={"Content-Type": JSON_PATCH},
            idempotency_key=_check_key(idempotency_key),
        )
        return self._entity(response, collection, entity_id)

    def replace(
        self, collection: str, entity_id: Any, body: Mapping[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """PUT: the entity becomes exactly ``body`` (fields left out are cleared)."""
        response = self._request(
            "PUT", _path(collection, entity_id), json=dict(body), idempotency_key=_check_key(idempotency_key)
        )
        return self._entity(response, collection, entity_id)

    def delete(self, collection: str, entity_id: Any) -> None:
        self._request("DELETE", _path(collection, entity_id))

    # -- clients ------------------------------------------------------------------------------------
    def create_client(self, client: Mapping[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        if not str(client.get("name") or "").strip():
            raise ValidationError(
                "A Robaws client needs a name.", vendor=self.vendor, hint="Pass the client's name, e.g. name=ACME NV."
            )
        return self.create("clients", client, idempotency_key)

    def find_clients(
        self, limit: int | None = None, extra_fields: Mapping[str, Any] | None = None, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        return self.list("clients", limit=limit, extra_fields=extra_fields, **filters)

    # -- purchase invoices --------------------------------------------------------------------------
    def create_purchase_invoice(
        self,
        invoice: Mapping[str, Any],
        idempotency_key: str | None = None,
        document: str | os.PathLike[str] | None = None,
    ) -> dict[str, Any]:
        """Create a purchase invoice and, when ``document`` is a file, upload and attach it.

        With an ``idempotency_key`` a second call with the same key creates nothing: Robaws replays
        the first answer, and the document is uploaded only if the invoice has none yet.
        """
        if invoice.get("supplierId") in (None, ""):
            raise ValidationError(
                "A Robaws purchase invoice needs a supplierId.",
                vendor=self.vendor,
                hint="Look the supplier up first (List Robaws Resources    suppliers).",
            )
        if document is not None and not Path(document).is_file():
            raise ConfigurationError(
                f"The document {os.fspath(document)!r} does not exist.", hint="Pass the path of the invoice's PDF file."
            )
        key = _check_key(idempotency_key)
        created = self.create("purchase-invoices", invoice, key)
        if document is None:
            return created
        invoice_id = created["id"]
        if key is not None:
            # The replayed answer is the original one: read the current state before uploading again.
            current = self.get("purchase-invoices", invoice_id)
            if current.get("documentId"):
                log.info(f"Purchase invoice {invoice_id} already has document {current['documentId']}.")
                return current
        document_id = self.upload_document(document)
        return self.attach_document_to_purchase_invoice(invoice_id, document_id, _sub_key(key, "attach"))

    def attach_document_to_purchase_invoice(
        self, invoice_id: Any, document_id: str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Attach an uploaded document (id from ``upload_document``); Robaws takes it out of its bucket."""
        return self.update("purchase-invoices", invoice_id, {"documentId": document_id}, idempotency_key)

    def start_purchase_invoice_approval(self, invoice_id: Any, idempotency_key: str | None = None) -> Entity:
        """Start the approval request; the invoice's ``approvalStatus`` becomes ``PENDING``."""
        response = self._request(
            "POST",
            _path("purchase-invoices", invoice_id, "start-approval-request"),
            idempotency_key=_check_key(idempotency_key),
        )
        return self._entity(response, "purchase-invoices", invoice_id)

    # -- sales invoices -----------------------------------------------------------------------------
    def create_sales_invoice(self, invoice: Mapping[str, Any], idempotency_key: str | None = None) -> Entity:
        if invoice.get("clientId") in (None, ""):
            raise ValidationError(
                "A Robaws sales invoice needs a clientId.",
                vendor=self.vendor,
                hint="Find or create the client first (Find Robaws Clients).",
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
    ) -> str:
        """Upload a file into a new temporary bucket and return its document id.

        Files up to 6 MB go in one multipart request; larger ones through an upload session, read
        and sent one part at a time so a large file is never held in memory whole. ``chunked``
        forces one way or the other (``None`` chooses by size).
        """
        source = Path(path)
        if not source.is_file():
            raise ConfigurationError(
                f"The file {os.fspath(path)!r} does not exist.",
                hint="Check the path (relative paths are from the working directory).",
            )
        size = source.stat().st_size
        name = file_name or source.name
        ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        bucket = self._json(self._request("POST", "/temp-document-buckets", json={}))["id"]
        use_parts = size > MAX_UPLOAD_BYTES if chunked is None else bool(chunked)
        if not use_parts:
            # Bytes, not a file handle: a retried request must send the whole file again.
            content = source.read_bytes()
            answer = self._json(
                self._request(
                    "POST",
                    _path("temp-document-buckets", bucket, "documents"),
                    files={"file": (name, content, ctype)},
                )
            )
            document_id = str(answer["id"])
        else:
            document_id = self._upload_in_parts(source, bucket, name, size, ctype)
        log.info(f"Uploaded {name} ({size} bytes) as Robaws document {document_id}.")
        return document_id

    def _upload_in_parts(self, source: Path, bucket: Any, name: str, size: int, ctype: str) -> str:
        session = self._json(
            self._request(
                "POST",
                _path("temp-document-buckets", bucket, "document-upload-sessions"),
                json={"fileName": name, "fileSize": size, "contentType": ctype},
            )
        )
        part_size = min(int(session.get("partSize") or MAX_UPLOAD_BYTES), MAX_UPLOAD_BYTES)
        parts = int(session.get("parts") or max(1, -(-size // part_size)))
        answer: Any = None
        with source.open("rb") as handle:
            for number in range(parts):
                chunk = handle.read(part_size)
                payload = {"bytesBase64": base64.b64encode(chunk).decode("ascii"), "partNumber": number}
                del chunk
                answer = self._json(
                    self._request("POST", _path("document-upload-sessions", session["id"]), json=payload)
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
        names = [events] if isinstance(events, str) else builtins.list(events)
        if not names:
            raise ConfigurationError("A webhook needs at least one event, e.g. client.updated.")
        created = self.create("webhook-endpoints", {"url": url, "events": names}, idempotency_key)
        redactor.register(created.get("secret"))
        return created

    def list_webhooks(self) -> builtins.list[dict[str, Any]]:
        webhooks = builtins.list(self.list("webhook-endpoints"))
        redactor.register(*(hook.get("secret") for hook in webhooks))
        return webhooks

    def delete_webhook(self, webhook_id: Any) -> None:
        self.delete("webhook-endpoints", webhook_id)

    @staticmethod
    def verify_webhook_signature(secret: Any, body: str | bytes, header: str | None, tolerance: float = 300) -> int:
        """Check a ``Robaws-Signature`` header over the raw body; return its timestamp or raise."""
        return verify_timestamped(
            require(secret_value(secret), "The webhook secret", "secret"), body, header, tolerance=float(tolerance)
        )

    idempotency_key_for = staticmethod(idempotency_key_for)


def validate_json_patch(operations: Any) -> builtins.list[dict[str, Any]]:
    """Reject a malformed JSON Patch before it costs a request, naming the operation at fault."""
    if isinstance(operations, Mapping):
        operations = [operations]
    if not isinstance(operations, Sequence) or isinstance(operations, (str, bytes)):
        raise ValidationError(
            "A JSON patch must be a list of operations.",
            hint='Pass e.g. [{"op": "replace", "path": "/name", "value": "New"}].',
        )
    ops: list[dict[str, Any]] = []
    for index, op in enumerate(operations):
        if not isinstance(op, Mapping):
            raise ValidationError(
                f"JSON patch operation {index} is not an object.",
                hint='Each operation is like {"op": "replace", "path": "/name", "value": "New"}.',
            )
        name, pointer = op.get("op"), op.get("path")
        if name not in _JSON_PATCH_OPS:
            raise ValidationError(
                f"JSON patch operation {index} has an invalid op {name!r}.",
                hint=f"Use one of {', '.join(sorted(_JSON_PATCH_OPS))}.",
            )
        if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
            raise ValidationError(
                f"JSON patch operation {index} has an invalid path {pointer!r}.",
                hint="A path is a JSON pointer such as /name or /extraFields/Color.",
            )
        if name in ("add", "replace", "test") and "value" not in op:
            raise ValidationError(f"JSON patch operation {index} ({name}) has no value.")
        if name in ("move", "copy") and not isinstance(op.get("from"), str):
            raise ValidationError(f"JSON patch operation {index} ({name}) has no 'from' path.")
        ops.append(dict(op))
    if not ops:
        raise ValidationError("The JSON patch has no operations.")
    return ops


def _path_of(response: requests.Response) -> str:
    request = response.request
    url = (request.url or "") if request is not None else ""
    return url.split("?", 1)[0]
