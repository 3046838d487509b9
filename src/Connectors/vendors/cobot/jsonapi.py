"""JSON:API documents (Cobot API 2) as the plain dictionaries a robot uses.

A resource ``{"id", "type", "attributes": {...}, "relationships": {...}}`` becomes one flat dictionary:
``id``, ``type``, every attribute under the spec's own name, and for every relationship that carries
data the related id (``<name>Id``) or ids (``<name>Ids``). When the document includes the related
resource (``include=``), it is there too, flattened the same way, under the relationship's name.
Relationships that are only links are left out: they are addresses, not data. An attribute always wins
over a derived key of the same name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Record = dict[str, Any]
Index = dict[tuple[str, str], Mapping[str, Any]]
# Related resources are resolved this many levels deep (an included membership's space, not further):
# included resources may point at each other, and a robot wants data, not a graph.
MAX_DEPTH = 2


def index(included: Any) -> Index:
    """The ``included`` resources of a document by (type, id)."""
    found: Index = {}
    for item in included if isinstance(included, list) else []:
        if isinstance(item, Mapping) and "id" in item and "type" in item:
            found[(str(item["type"]), str(item["id"]))] = item
    return found


def flatten(resource: Any, included: Index | None = None, depth: int = 0) -> Record:
    """One resource object as a flat dictionary (see the module docstring)."""
    if not isinstance(resource, Mapping):
        return {}
    record: Record = {"id": resource.get("id"), "type": resource.get("type")}
    attributes = resource.get("attributes")
    if isinstance(attributes, Mapping):
        record.update(attributes)
    relationships = resource.get("relationships")
    for name, relation in (relationships or {}).items() if isinstance(relationships, Mapping) else ():
        if not isinstance(relation, Mapping) or "data" not in relation:
            continue
        data = relation["data"]
        if isinstance(data, list):
            linked = [item for item in data if isinstance(item, Mapping)]
            record.setdefault(f"{name}Ids", [str(item.get("id")) for item in linked])
            resolved = [_resolve(item, included, depth) for item in linked]
            if included and resolved and all(r is not None for r in resolved):
                record.setdefault(name, resolved)
        else:
            record.setdefault(f"{name}Id", str(data["id"]) if isinstance(data, Mapping) and "id" in data else None)
            one = _resolve(data, included, depth) if isinstance(data, Mapping) else None
            if one is not None:
                record.setdefault(name, one)
    return record


def _resolve(linkage: Mapping[str, Any], included: Index | None, depth: int) -> Record | None:
    if not included or depth >= MAX_DEPTH:
        return None
    target = included.get((str(linkage.get("type")), str(linkage.get("id"))))
    return flatten(target, included, depth + 1) if target is not None else None


def records(document: Any) -> list[Record]:
    """The resources of a collection document (``data`` a list), flattened."""
    if not isinstance(document, Mapping):
        return []
    data = document.get("data")
    included = index(document.get("included"))
    items: Iterable[Any] = data if isinstance(data, list) else [data] if isinstance(data, Mapping) else []
    return [flatten(item, included) for item in items]


def record(document: Any) -> Record:
    """The resource of a single-resource document, flattened (``{}`` when there is none)."""
    found = records(document)
    return found[0] if found else {}


def has_next(document: Any, number: int) -> bool:
    """Whether a page follows page ``number``: ``links.next`` when given, else ``meta.totalPages``."""
    if not isinstance(document, Mapping):
        return False
    links = document.get("links")
    if isinstance(links, Mapping) and "next" in links:
        return bool(links.get("next"))
    meta = document.get("meta")
    total = meta.get("totalPages") if isinstance(meta, Mapping) else None
    return isinstance(total, (int, float)) and not isinstance(total, bool) and number < total
