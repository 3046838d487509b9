"""Checking arguments at the client boundary: one line naming the argument and what it should be.

Robot Framework converts keyword arguments by their type hints, but Python callers and ``Evaluate``
pass anything; a ``None`` body or a string where a list of records belongs must fail here with the
argument's name, not as a ``TypeError`` deep inside, and never after part of the work is done.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from Connectors.core.errors import ValidationError


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {_short(value)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def mapping(value: Any, argument: str, *, allow_empty: bool = True, from_json: bool = False) -> dict[str, Any]:
    """``value`` as a dictionary with text keys (JSON text too, when ``from_json``)."""
    if from_json and isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ValidationError(f"{argument} is not valid JSON ({error}).", hint="Write it as a JSON object.")
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{argument} must be a dictionary, got {_kind(value)}.",
            hint="Pass field: value pairs, e.g. a dictionary made with Create Dictionary.",
        )
    if not allow_empty and not value:
        raise ValidationError(f"{argument} is empty.", hint="Give at least one field.")
    bad = [key for key in value if not isinstance(key, str)]
    if bad:
        raise ValidationError(f"{argument} has a key that is not text: {_short(bad[0])}.", hint="Use text keys.")
    return dict(value)


def records(value: Any, argument: str) -> list[dict[str, Any]]:
    """A list of dictionaries; a single dictionary or a string is refused, not iterated."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise ValidationError(
            f"{argument} must be a list of dictionaries, got {_kind(value)}.",
            hint="Pass a list, e.g. made with Create List, whose items are dictionaries.",
        )
    return [mapping(item, f"{argument}[{index}]") for index, item in enumerate(value)]


def texts(value: Any, argument: str, *, allow_empty: bool = False) -> list[str]:
    """A list of ids or names: a list, or one comma-separated text; every item non-empty."""
    if isinstance(value, str):
        items: list[Any] = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, (Mapping, bytes)) or not isinstance(value, Sequence):
        raise ValidationError(
            f"{argument} must be a list of ids, got {_kind(value)}.", hint="Pass a list or comma-separated ids."
        )
    else:
        items = list(value)
    result = []
    for index, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, (str, int)) or not str(item).strip():
            raise ValidationError(f"{argument}[{index}] is not an id: {_kind(item)}.", hint="Pass ids as text.")
        result.append(str(item).strip())
    if not result and not allow_empty:
        raise ValidationError(f"{argument} is empty.", hint="Pass at least one id.")
    return result


def text(value: Any, argument: str, *, max_length: int = 2000) -> str:
    """A non-empty single-line text (ids, names, URLs)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(f"{argument} must be a text, got {_kind(value)}.")
    result = str(value).strip()
    if not result:
        raise ValidationError(f"{argument} is empty.")
    if len(result) > max_length or any(ord(char) < 32 or ord(char) == 127 for char in result):
        raise ValidationError(f"{argument} is not a single line of at most {max_length} characters.")
    return result


def whole_number(value: Any, argument: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"{argument} must be a whole number, got {value}.")
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError(f"{argument} must be a whole number, got {_kind(value)}.") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        bounds = f"from {minimum}" if minimum is not None else ""
        bounds += f" to {maximum}" if maximum is not None else ""
        raise ValidationError(f"{argument} {number} is out of range ({bounds.strip()}).")
    return number


def limit(value: Any, argument: str = "limit") -> int | None:
    """A list limit: ``None``, ``0`` or a negative number mean "all"."""
    if value is None or value == "":
        return None
    number = whole_number(value, argument)
    return number if number > 0 else None
