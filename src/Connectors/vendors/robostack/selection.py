"""Which Robostack selections are safe to update or delete by: the guard's rule.

Robostack documents a selection as exact field values; a server that reads it as a MongoDB filter
(as its aggregation pipeline suggests) also understands operators, and many operator spellings match
every record: ``{}``, ``{"$and": []}``, ``{"$or": []}``, ``{"status": {"$exists": true}}``,
``{"status": {"$ne": "x"}}``, ``$nor``, ``$not``, ``{"n": {"$gte": 0}}``, ``{"name": {"$regex": ".*"}}``,
``{"$not": {"$in": []}}``, ``{"field": null}`` (a missing field is null) and any nesting of these.

Listing every match-all spelling cannot be done (``$regex: "^.{0,}"``, ``$gt: ""`` …), so the rule is
the conservative opposite: a selection passes only when it **pins a field to a value** - every record
it matches has some field equal to a value the caller gave - in every branch:

- ``field: value`` with a value that is not ``null`` (a text, number, boolean, or a non-empty list or
  document without operators inside, compared whole);
- ``field: {"$eq": value}`` with such a value, or ``field: {"$in": [values]}`` with a non-empty list of
  plain values (texts, numbers, booleans; no ``null``);
- ``$and: [...]`` when at least one of its selections pins (the others only narrow it down);
- ``$or: [...]`` when it is not empty and every one of its selections pins.

Anything else pins nothing: ``$ne``, ``$nin``, ``$not``, ``$nor``, ``$exists``, ``$type``, ``$gt``,
``$gte``, ``$lt``, ``$lte``, ``$regex``, ``$options``, ``$mod``, ``$all``, ``$elemMatch``, ``$size``,
``$where``, ``$expr``, ``$text``, ``$jsonSchema`` and operators not listed here. Those are fine next to a
pinned field (``{"status": "pending", "quantity": {"$gt": 5}}``); alone they need ``allow_all=True``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The pinning forms, as the guard's message names them.
PINNING_FORMS = "field: value, field: {$eq: value} or field: {$in: [values]}"
#: The operators the guard knows as pinning nothing; any other ``$`` operator pins nothing either.
MATCH_ALL_OPERATORS = (
    *("$ne", "$nin", "$not", "$nor", "$exists", "$type", "$gt", "$gte", "$lt", "$lte", "$regex", "$options"),
    *("$mod", "$all", "$elemMatch", "$size", "$where", "$expr", "$text", "$jsonSchema"),
)

_PLAIN = (str, int, float, bool)


def pins(selection: Mapping[str, Any]) -> bool:
    """Whether every record ``selection`` matches has a field equal to a value it gives (see the module)."""
    return any(_pins(name, value) for name, value in selection.items())


def _pins(name: str, value: Any) -> bool:
    if name == "$and":
        return _selections(value) and any(pins(branch) for branch in value)
    if name == "$or":
        return _selections(value) and bool(value) and all(pins(branch) for branch in value)
    if name.startswith("$"):
        return False
    return _pinned_value(value)


def _selections(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(branch, Mapping) for branch in value)


def _pinned_value(value: Any) -> bool:
    if isinstance(value, Mapping) and any(str(name).startswith("$") for name in value):
        if not all(str(name).startswith("$") for name in value):
            return False  # operators mixed with fields: not a condition a server reads one way
        return any(_pinning_operator(operator, argument) for operator, argument in value.items())
    return _literal(value)


def _pinning_operator(operator: str, argument: Any) -> bool:
    if operator == "$eq":
        return _literal(argument)
    if operator == "$in":
        return isinstance(argument, list) and bool(argument) and all(isinstance(item, _PLAIN) for item in argument)
    return False


def _literal(value: Any) -> bool:
    """A value compared whole: not null, and no operator anywhere inside; an empty list or document is
    not one (a server may read ``{}`` as "any")."""
    if value is None:
        return False
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, Mapping):
        return bool(value) and all(not str(k).startswith("$") and _literal_inside(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_literal_inside(item) for item in value)
    return False


def _literal_inside(value: Any) -> bool:
    if isinstance(value, Mapping):
        return all(not str(k).startswith("$") and _literal_inside(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_literal_inside(item) for item in value)
    return True
