"""The Robaws entity store of the sandbox: collections, querying (filters, sorting, paging, include),
validation and the two PATCH dialects (JSON Merge Patch and JSON Patch).

Filters are only those Robaws documents (api-notes, "Filtering, paging, sorting"): every collection
pages (``page``, ``size``), sorts, includes and filters on extra fields (``extraFields[Name]``) and on
``updatedFrom`` ("most collections": the sandbox gives it to all); sales and purchase invoices also on
``type``, ``fromDate`` and ``toDate``. Robaws says each collection has "some specific filter parameters"
and asks customers to e-mail for more; a parameter a server does not know is ignored, so every other
one (``name=``, ``vatNumber=``, ``clientId=``, …) is ignored here too, never honoured as an exact match:
a robot that relies on it must fail against the sandbox as it would against Robaws.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from typing import Any

import jsonpatch
import jsonpointer

from connectors_sandbox.common import ApiError

COLLECTIONS = (
    "articles",
    "employees",
    "clients",
    "offers",
    "sales-invoices",
    "purchase-invoices",
    "projects",
    "planning-items",
    "work-orders",
    "installations",
    "sales-orders",
    "purchase-supply-orders",
    "suppliers",
    "materials",
    "posts",
    "stock-changes",
    "users",
)

# Webhook event prefix per collection (collections without one emit no events).
SINGULAR = {
    "clients": "client",
    "sales-invoices": "sales-invoice",
    "purchase-invoices": "purchase-invoice",
    "offers": "offer",
    "projects": "project",
    "articles": "article",
    "employees": "employee",
    "planning-items": "planning-item",
    "work-orders": "work-order",
    "materials": "material",
    "installations": "installation",
    "sales-orders": "sales-order",
}

# `include=<name>` embeds the entity that `<name>Id` points at; names that are not "<collection> minus s".
INCLUDE_TARGETS = {"employer": "clients", "customer": "clients", "assignee": "employees"}

# Sub-lists stored inside an entity and returned only when included (clients/{id}/contacts, ...).
HIDDEN_LISTS = {"clients": ("contacts",), "suppliers": ("contacts",)}

# Fields the server owns: a client cannot set them with POST, PUT or PATCH.
SERVER_FIELDS = ("id", "createdAt", "updatedAt", "approvalStatus")

INVOICE_TYPES = ("INVOICE", "CREDIT_NOTE")
EXTRA_VALUE_KEYS = ("stringValue", "dateValue", "decimalValue", "integerValue", "booleanValue")
# Parameters every collection knows: paging, sorting, include, the database mode, and updatedFrom.
STANDARD_PARAMS = ("page", "size", "sort", "include", "database-mode", "updatedFrom")
# The collections' own documented filters (nothing else is documented for v2).
INVOICE_FILTERS = ("type", "fromDate", "toDate")
COLLECTION_FILTERS: dict[str, tuple[str, ...]] = {
    "sales-invoices": INVOICE_FILTERS,
    "purchase-invoices": INVOICE_FILTERS,
}
_EXTRA_FILTER = re.compile(r"^extraFields\[(.+)\]$")


def honoured(collection: str) -> tuple[str, ...]:
    """The query parameters ``collection`` understands, besides ``extraFields[…]``."""
    return STANDARD_PARAMS + COLLECTION_FILTERS.get(collection, ())


def ignored_params(collection: str, params: Any) -> list[str]:
    """The query parameters of a list call that ``collection`` does not know (and so ignores)."""
    known = honoured(collection)
    return [name for name in dict.fromkeys(params.keys()) if name not in known and not _EXTRA_FILTER.match(name)]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_instant(text: str, name: str) -> datetime:
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(f"{name} must be an ISO date or date-time, e.g. 2024-03-09 or 2024-03-09T07:58:22Z")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _parse_date(text: str, name: str) -> str:
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise ApiError(f"{name} must be an ISO date such as 2024-03-09")


def _camel_to_kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def include_target(name: str) -> str:
    return INCLUDE_TARGETS.get(name, _camel_to_kebab(name) + "s")


def parse_includes(text: str | None) -> dict[str, Any]:
    """``employer,employer.contacts,extraFields`` -> {"employer": {"contacts": {}}, "extraFields": {}}."""
    tree: dict[str, Any] = {}
    for part in (text or "").split(","):
        node = tree
        for name in filter(None, (p.strip() for p in part.split("."))):
            node = node.setdefault(name, {})
    return tree


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def apply_json_patch(document: dict[str, Any], operations: Any) -> Any:
    """RFC 6902 JSON Patch; any malformed or failing operation is a 400 naming the problem."""
    if not isinstance(operations, list):
        raise ApiError("Invalid JSON patch: the body must be a JSON array of operations")
    try:
        return jsonpatch.JsonPatch(operations).apply(document)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise ApiError(f"Invalid JSON patch: {exc}")
    except (TypeError, KeyError, ValueError, AttributeError, IndexError) as exc:
        raise ApiError(f"Invalid JSON patch: malformed operation ({type(exc).__name__}: {exc})")


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _field_matches(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return wanted.lower() == ("true" if value else "false")
    if isinstance(value, (int, float)):
        try:
            return float(wanted) == float(value)
        except ValueError:
            return False
    if value is None:
        return wanted in ("", "null")
    return _text(value) == wanted


def _extra_matches(extra: Any, wanted: str) -> bool:
    """Compare an extra field value as text, boolean, number or date, depending on how it is stored."""
    if not isinstance(extra, dict):
        return False
    if "booleanValue" in extra:
        flag = wanted.lower()
        return flag in ("true", "false") and (flag == "true") == bool(extra["booleanValue"])
    for key in ("decimalValue", "integerValue"):
        if key in extra:
            try:
                return extra[key] is not None and float(wanted) == float(extra[key])
            except ValueError:
                return False
    if "dateValue" in extra:
        return str(extra["dateValue"] or "")[:10] == wanted[:10]
    if "stringValue" in extra:
        return str(extra["stringValue"]) == wanted
    return False


def _sort_key(value: Any) -> tuple[int, Any]:
    # None sorts last; numbers and text never compare with each other.
    if value is None:
        return (2, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value).lower())


class Store:
    """All entities by collection, with ids counting from 1001 per collection."""

    def __init__(self) -> None:
        self.data: dict[str, dict[int, dict[str, Any]]] = {}
        self.next_ids: dict[str, int] = {}
        self.next_sub_id = 1
        self.clear()

    def clear(self) -> None:
        self.data = {name: {} for name in COLLECTIONS}
        self.next_ids = dict.fromkeys(COLLECTIONS, 1001)
        self.next_sub_id = 1

    # -- basic access ---------------------------------------------------------------------------
    @staticmethod
    def check_collection(name: str) -> None:
        if name not in COLLECTIONS:
            raise ApiError(f"Unknown collection '{name}'", 404)

    def get(self, collection: str, entity_id: Any) -> dict[str, Any]:
        self.check_collection(collection)
        try:
            key = int(entity_id)
        except (TypeError, ValueError):
            key = -1
        entity = self.data[collection].get(key)
        if entity is None:
            raise ApiError(f"No {collection} item with id {entity_id}", 404)
        return entity

    def exists(self, collection: str, entity_id: Any) -> bool:
        is_int = isinstance(entity_id, int) and not isinstance(entity_id, bool)
        return is_int and entity_id in self.data[collection]

    def sub_id(self) -> int:
        value = self.next_sub_id
        self.next_sub_id += 1
        return value

    def _with_sub_ids(self, entity: dict[str, Any], collection: str) -> None:
        names = (*HIDDEN_LISTS.get(collection, ()), "lineItems")
        for name in names:
            items = entity.get(name)
            if isinstance(items, list):
                for item in items:
                    if isinstance(item, dict) and not isinstance(item.get("id"), int):
                        item["id"] = self.sub_id()

    # -- writes ---------------------------------------------------------------------------------
    def insert(
        self,
        collection: str,
        body: dict[str, Any],
        *,
        created: str | None = None,
        updated: str | None = None,
        server: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        entity = {k: copy.deepcopy(v) for k, v in body.items() if k not in SERVER_FIELDS}
        self.defaults(collection, entity)
        self.validate(collection, entity)
        entity_id = self.next_ids[collection]
        self.next_ids[collection] += 1
        stamp = now_iso()
        entity = {"id": entity_id, **entity, "createdAt": created or stamp, "updatedAt": updated or created or stamp}
        if collection == "purchase-invoices":
            entity["approvalStatus"] = "NONE"
        entity.update(server or {})
        self._with_sub_ids(entity, collection)
        self.data[collection][entity_id] = entity
        return entity

    def replace(self, collection: str, entity_id: Any, body: dict[str, Any]) -> dict[str, Any]:
        old = self.get(collection, entity_id)
        entity = {k: copy.deepcopy(v) for k, v in body.items() if k not in SERVER_FIELDS}
        self.defaults(collection, entity)
        self.validate(collection, entity)
        kept = {k: old[k] for k in SERVER_FIELDS if k in old}
        new = {"id": old["id"], **entity, **kept, "updatedAt": now_iso()}
        self._with_sub_ids(new, collection)
        self.data[collection][old["id"]] = new
        return new

    def delete(self, collection: str, entity_id: Any) -> dict[str, Any]:
        entity = self.get(collection, entity_id)
        del self.data[collection][entity["id"]]
        return entity

    @staticmethod
    def defaults(collection: str, entity: dict[str, Any]) -> None:
        if collection in ("sales-invoices", "purchase-invoices"):
            entity.setdefault("type", "INVOICE")

    def validate(self, collection: str, entity: dict[str, Any]) -> None:
        errors: list[dict[str, str]] = []
        if collection == "clients" and not (isinstance(entity.get("name"), str) and entity["name"].strip()):
            errors.append({"field": "name", "message": "name is required"})
        if collection == "sales-invoices" and not self.exists("clients", entity.get("clientId")):
            errors.append({"field": "clientId", "message": "clientId must be the id of an existing client"})
        if collection == "purchase-invoices" and not self.exists("suppliers", entity.get("supplierId")):
            errors.append({"field": "supplierId", "message": "supplierId must be the id of an existing supplier"})
        if collection in ("sales-invoices", "purchase-invoices") and entity.get("type") not in INVOICE_TYPES:
            errors.append({"field": "type", "message": "type must be INVOICE or CREDIT_NOTE"})
        extra = entity.get("extraFields")
        if extra is not None and not (isinstance(extra, dict) and all(map(_is_extra_value, extra.values()))):
            errors.append(
                {
                    "field": "extraFields",
                    "message": "extraFields maps a field name to one of " + ", ".join(EXTRA_VALUE_KEYS),
                }
            )
        if errors:
            raise ValidationFailed(errors)

    # -- reads ----------------------------------------------------------------------------------
    def serialize(
        self, collection: str, entity: dict[str, Any], tree: dict[str, Any], depth: int = 0
    ) -> dict[str, Any]:
        out = copy.deepcopy(entity)
        if "extraFields" not in tree:
            out.pop("extraFields", None)
        for hidden in HIDDEN_LISTS.get(collection, ()):
            if hidden not in tree:
                out.pop(hidden, None)
        if depth > 4:
            return out
        for name, sub in tree.items():
            if name == "extraFields" or name in HIDDEN_LISTS.get(collection, ()):
                continue
            ref = entity.get(f"{name}Id")
            target = include_target(name)
            if target not in self.data or f"{name}Id" not in entity:
                continue
            embedded = self.data[target].get(ref) if isinstance(ref, int) else None
            out[name] = None if embedded is None else self.serialize(target, embedded, sub, depth + 1)
        return out

    def query(self, collection: str, params: Any) -> dict[str, Any]:
        """A page of a collection: ``params`` is Starlette's QueryParams (or any multi-dict)."""
        self.check_collection(collection)
        page = _int_param(params.get("page"), "page", 0, 0, None)
        size = _int_param(params.get("size"), "size", 10, 1, 100)
        items: Iterable[dict[str, Any]] = self.data[collection].values()
        for predicate in self._filters(collection, params):
            items = [e for e in items if predicate(e)]
        ordered = sorted(items, key=lambda e: e["id"])
        for name, descending in reversed(_parse_sort(params.get("sort"))):
            ordered.sort(key=_field_key(name), reverse=descending)
        total = len(ordered)
        tree = parse_includes(params.get("include"))
        chunk = ordered[page * size : (page + 1) * size]
        return {
            "items": [self.serialize(collection, e, tree) for e in chunk],
            "totalItems": total,
            "currentPage": page,
            "size": size,
            "totalPages": math.ceil(total / size),
        }

    def _filters(self, collection: str, params: Any) -> list[Callable[[dict[str, Any]], bool]]:
        predicates: list[Callable[[dict[str, Any]], bool]] = []
        own = COLLECTION_FILTERS.get(collection, ())
        if params.get("updatedFrom"):
            since = _parse_instant(params["updatedFrom"], "updatedFrom")
            predicates.append(lambda e: _parse_instant(e["updatedAt"], "updatedAt") >= since)
        if "type" in own and params.get("type"):
            wanted = params.getlist("type") if hasattr(params, "getlist") else [params["type"]]
            predicates.append(_field_predicate("type", wanted))
        if "fromDate" in own and params.get("fromDate"):
            low = _parse_date(params["fromDate"], "fromDate")
            predicates.append(lambda e: isinstance(e.get("date"), str) and e["date"][:10] >= low)
        if "toDate" in own and params.get("toDate"):
            high = _parse_date(params["toDate"], "toDate")
            predicates.append(lambda e: isinstance(e.get("date"), str) and e["date"][:10] <= high)
        for name in dict.fromkeys(params.keys()):
            match = _EXTRA_FILTER.match(name)
            if match:
                wanted = params.getlist(name) if hasattr(params, "getlist") else [params[name]]
                predicates.append(_extra_predicate(match.group(1), wanted))
        return predicates


def _is_extra_value(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in EXTRA_VALUE_KEYS


class ValidationFailed(ApiError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("Validation failed: " + "; ".join(e["message"] for e in errors), fields={"errors": errors})
        self.errors = errors


def _field_key(name: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    return lambda entity: _sort_key(entity.get(name))


def _extra_predicate(field: str, wanted: list[str]) -> Callable[[dict[str, Any]], bool]:
    return lambda entity: any(_extra_matches((entity.get("extraFields") or {}).get(field), v) for v in wanted)


def _field_predicate(name: str, wanted: list[str]) -> Callable[[dict[str, Any]], bool]:
    return lambda entity: name in entity and any(_field_matches(entity[name], v) for v in wanted)


def _int_param(text: str | None, name: str, default: int, low: int, high: int | None) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(f"{name} must be a whole number")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiError(f"{name} must be {bounds}, got {value}")
    return value


def _parse_sort(text: str | None) -> list[tuple[str, bool]]:
    keys: list[tuple[str, bool]] = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, direction = part.strip().partition(":")
        direction = direction.strip().lower() or "asc"
        if direction not in ("asc", "desc"):
            raise ApiError(f"sort direction must be asc or desc, got {direction!r} for {name!r}")
        keys.append((name.strip(), direction == "desc"))
    return keys
