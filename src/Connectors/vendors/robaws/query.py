"""Robaws query strings, extra-field values and JSON Patch documents: how list filters, extra fields and
patches are written."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from Connectors.core import arguments
from Connectors.core.errors import ConfigurationError, ValidationError

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
_JSON_PATCH_OPS = {"add", "remove", "replace", "move", "copy", "test"}


def query_value(value: Any, argument: str = "value") -> str:
    """A filter value as Robaws expects it: booleans ``true|false``, dates ISO, lists comma-separated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(query_value(item, argument) for item in value)
    if isinstance(value, float):
        return repr(arguments.number(value, argument))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return arguments.line(value, argument)
    raise ValidationError(
        f"{argument} must be a text, a number, True/False, a date or a list of those, got {type(value).__name__}.",
        hint="Filter values go into the query string.",
    )


def _names(value: Any, argument: str) -> str | None:
    # "a,b" or ["a", "b"]: sort and include take comma-separated names.
    if value is None or value == "":
        return None
    return ",".join(arguments.texts(value, argument, allow_empty=True)) or None


def build_query(
    *,
    sort: str | Sequence[str] | None = None,
    include: str | Sequence[str] | None = None,
    extra_fields: Mapping[str, Any] | None = None,
    filters: Mapping[str, Any] | None = None,
) -> list[tuple[str, str]]:
    """The query pairs of a list call: standard filters, ``extraFields[Name]`` filters, sort, include.

    ``None`` filter values are left out, so optional robot arguments can be passed through as-is. Names
    and values are checked here (one line of text each), before any request.
    """
    pairs: list[tuple[str, str]] = []
    for name, value in (filters or {}).items():
        arguments.key(name, "filters")
        if name in ("page", "size"):
            raise ConfigurationError(
                f"Do not pass '{name}' as a filter.",
                hint="Paging is automatic: use limit (how many items in total) and page_size.",
            )
        if value is not None:
            pairs.append((name, query_value(value, name)))
    extras = {} if extra_fields is None else extra_fields
    if not isinstance(extras, Mapping):
        raise ValidationError(
            f"extra_fields must be a dictionary of extra-field names and values, got {type(extras).__name__}.",
            hint="Make it with Create Dictionary, e.g. Contact via=Website.",
        )
    for name, value in extras.items():
        # Extra-field names are the tenant's own labels ("Contact via"): any one line of text.
        label = arguments.text(name, "extra_fields key", max_length=200)
        if value is not None:
            pairs.append((f"extraFields[{label}]", query_value(value, f"extra_fields[{label!r}]")))
    sort_names, include_names = _names(sort, "sort"), _names(include, "include")
    if sort_names:
        pairs.append(("sort", sort_names))
    if include_names:
        pairs.append(("include", include_names))
    return pairs


def encode_query(pairs: Iterable[tuple[str, Any]]) -> str:
    """Percent-encode keys and values, ``[`` / ``]`` and spaces included (``%5B``, ``%5D``, ``%20``).

    Robaws documents ``extraFields%5BName%5D=value``; encoding here rather than through
    ``requests``' form encoding keeps spaces as ``%20`` instead of ``+``.
    """
    return "&".join(f"{_encoded(str(k))}={_encoded(str(v))}" for k, v in pairs)


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*\Z")


def _encoded(text: str) -> str:
    # Most names and values (page, size, ids) need no encoding: quote() is costly on every page of every list.
    return text if _UNRESERVED.match(text) else quote(text, safe="")


# Robaws writes an extra field as {"<Name>": {"<kind>Value": value}} (api-notes, "Writing extra fields").
EXTRA_VALUE_KEYS = ("stringValue", "integerValue", "decimalValue", "booleanValue", "dateValue")
EXTRA_FIELDS = "extraFields"


def extra_field_value(value: Any, where: str) -> dict[str, Any]:
    """One plain value as Robaws' typed extra-field value: text, whole number, decimal, boolean or date."""
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"integerValue": value}
    if isinstance(value, (float, Decimal)):
        return {"decimalValue": arguments.number(float(value), where)}
    if isinstance(value, (datetime, date)):
        # A date field holds a day; a date-time given for it is that day.
        day = value.date() if isinstance(value, datetime) else value
        return {"dateValue": day.isoformat()}
    if isinstance(value, str):
        return {"stringValue": arguments.json_value(value, where)}
    raise ValidationError(
        f"{where} is {arguments.describe(value)}: a Robaws extra field holds a text, a whole number, a decimal, "
        "True/False or a date.",
        hint="Pass one plain value per extra field (a list or a dictionary has no Robaws value key).",
    )


def extra_fields_body(
    body: Mapping[str, Any], extra_fields: Mapping[str, Any] | None, *, keep_none: bool
) -> dict[str, Any]:
    """``body`` with ``extra_fields`` (plain values by field name) written the way Robaws takes them.

    ``keep_none``: a ``None`` value clears the field (merge patch); on a create it is left out.
    """
    if extra_fields is None:
        return dict(body)
    if not isinstance(extra_fields, Mapping):
        got = arguments.describe(extra_fields)
        raise ValidationError(
            f"extra_fields must be a dictionary of extra-field names and values, got {got}.",
            hint="Make it with Create Dictionary, e.g. Contact via=Website.",
        )
    if EXTRA_FIELDS in body:
        raise ValidationError(
            "Extra fields are given twice: as extra_fields= and as a raw extraFields field.",
            hint="Give them once: plain values in extra_fields=, or Robaws' typed values in extraFields.",
        )
    typed: dict[str, Any] = {}
    for name, value in extra_fields.items():
        label = arguments.text(name, "extra_fields key", max_length=200)
        if value is not None:
            typed[label] = extra_field_value(value, f"extra_fields[{label!r}]")
        elif keep_none:
            typed[label] = None
    return {**body, EXTRA_FIELDS: typed}


def plain_extra_fields(entity: Any) -> dict[str, Any]:
    """An entity's ``extraFields`` as plain values by name (a date as its ISO text); {} when it has none."""
    if not isinstance(entity, Mapping):
        raise ValidationError(
            f"entity must be a Robaws entity (a dictionary), got {arguments.describe(entity)}.",
            hint="Pass what Get Robaws Resource returned, with include=extraFields.",
        )
    extras = entity.get(EXTRA_FIELDS) or {}
    if not isinstance(extras, Mapping):
        raise ValidationError(f"The entity's extraFields is {arguments.describe(extras)}, not a dictionary.")
    plain: dict[str, Any] = {}
    for name, typed in extras.items():
        if isinstance(typed, Mapping):
            keys = [key for key in EXTRA_VALUE_KEYS if key in typed]
            plain[str(name)] = typed[keys[0]] if keys else None
        else:
            plain[str(name)] = typed
    return plain


def validate_json_patch(operations: Any) -> list[dict[str, Any]]:
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
        ops.append(arguments.json_value(dict(op), f"JSON patch operation {index}"))
    if not ops:
        raise ValidationError("The JSON patch has no operations.")
    return ops
