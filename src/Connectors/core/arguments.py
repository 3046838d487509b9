"""Checking arguments at the client boundary: one line naming the argument and what it should be.

Robot Framework converts keyword arguments by their type hints, but Python callers and ``Evaluate``
pass anything; a ``None`` body or a string where a list of records belongs must fail here with the
argument's name, not as a ``TypeError`` deep inside, and never after part of the work is done.

What goes on the wire is checked as well: a body holds JSON values only (no bytes, no ``NaN``, no
lone surrogate that no server can decode), the top-level keys of a body are short printable ASCII
field names, and a text that ends up in a header, a query or a file name is one line.
"""

from __future__ import annotations

import json
import math
import os
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from Connectors.core.config import secret_value
from Connectors.core.errors import ConfigurationError, ValidationError

#: Longest field name accepted at the top of a body (vendors' field names are short identifiers).
MAX_KEY = 128
#: Deepest nesting of a body: deeper is a mistake (or an attack), not business data.
MAX_DEPTH = 32


def describe(value: Any) -> str:
    """A value for a message: its type and a short, one-line ``repr`` (never a credential: don't pass one)."""
    return "nothing" if value is None else f"{type(value).__name__} {_short(value)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _line_problem(text: str) -> str:
    """What keeps ``text`` from being one line of valid Unicode ("" when nothing)."""
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            return "contains invalid Unicode (a lone surrogate)"
        if category == "Cc" or char in "\u2028\u2029":
            return "contains a control character (a line break, tab or NUL)"
    return ""


def _unicode_problem(text: str) -> str:
    return "contains invalid Unicode (a lone surrogate)" if any(0xD800 <= ord(c) <= 0xDFFF for c in text) else ""


# -- texts -------------------------------------------------------------------------------------


def text(value: Any, argument: str, *, max_length: int = 2000, multiline: bool = False) -> str:
    """A non-empty text (ids, names, URLs): one line unless ``multiline``; numbers are accepted as text."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(f"{argument} must be a text, got {describe(value)}.")
    result = str(value).strip()
    if not result:
        raise ValidationError(f"{argument} is empty.", hint=f"Pass the {argument.replace('_', ' ')}.")
    if len(result) > max_length:
        raise ValidationError(f"{argument} has {len(result)} characters (at most {max_length}).")
    problem = _unicode_problem(result) if multiline else _line_problem(result)
    if problem:
        raise ValidationError(f"{argument} {problem}.", hint="Pass it as one line of plain text.")
    return result


def line(value: str, argument: str, *, max_length: int = 2000) -> str:
    """A text as given (maybe empty), if it is one line of valid Unicode (a query value, say)."""
    problem = _line_problem(value) or (
        f"has {len(value)} characters (at most {max_length})" if len(value) > max_length else ""
    )
    if problem:
        raise ValidationError(f"{argument} {problem}.", hint="Pass it as one line of plain text.")
    return value


def optional_text(value: Any, argument: str, *, max_length: int = 2000, multiline: bool = False) -> str | None:
    """``text()``, except that ``None`` and an empty or blank text mean "not given"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return text(value, argument, max_length=max_length, multiline=multiline)


def key(value: Any, argument: str) -> str:
    """A field name at the top of a body: short printable ASCII."""
    if not isinstance(value, str):
        raise ValidationError(f"{argument} has a key that is not text: {_short(value)}.", hint="Use text keys.")
    if not value.strip() or len(value) > MAX_KEY or not value.isascii() or not value.isprintable():
        what = "an empty key" if not value.strip() else f"the key {_short(value)}"
        raise ValidationError(
            f"{argument} has {what}: field names are 1 to {MAX_KEY} printable ASCII characters.",
            hint="Use the field names the API documents.",
        )
    return value


def texts(value: Any, argument: str, *, allow_empty: bool = False) -> list[str]:
    """A list of ids or names: a list, or one comma-separated text; every item non-empty, one line."""
    if isinstance(value, str):
        items: list[Any] = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, (Mapping, bytes, bytearray)) or not isinstance(value, Sequence):
        raise ValidationError(
            f"{argument} must be a list of ids, got {describe(value)}.", hint="Pass a list or comma-separated ids."
        )
    else:
        items = list(value)
    result = []
    for index, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, (str, int)) or not str(item).strip():
            raise ValidationError(f"{argument}[{index}] is not an id: {describe(item)}.", hint="Pass ids as text.")
        result.append(text(item, f"{argument}[{index}]"))
    if not result and not allow_empty:
        raise ValidationError(f"{argument} is empty.", hint="Pass at least one id.")
    return result


def credential(value: Any, argument: str) -> str | None:
    """A credential given as text or as a Robot Framework ``Secret`` (``None``: not given), registered for
    redaction. Anything else is refused without showing it, and never registered: ``True`` as a "secret"
    would mask every "True" in every later log line."""
    text = getattr(value, "value", value)
    if value is not None and not isinstance(text, str):
        raise ValidationError(f"{argument} must be a text or a Secret, got {type(value).__name__}.")
    return secret_value(text)


# -- numbers and flags ---------------------------------------------------------------------------


def whole_number(value: Any, argument: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"{argument} must be a whole number, got {value}.")
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"{argument} must be a whole number, got {describe(value)}.") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        bounds = f"from {minimum}" if minimum is not None else ""
        bounds += f" to {maximum}" if maximum is not None else ""
        raise ValidationError(f"{argument} {number} is out of range ({bounds.strip()}).")
    return number


def number(value: Any, argument: str, *, minimum: float | None = None) -> float:
    """A finite number (a float, an int or a numeric text)."""
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise TypeError
        result = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"{argument} must be a number, got {describe(value)}.") from None
    if not math.isfinite(result) or (minimum is not None and result < minimum):
        floor = f" of at least {minimum:g}" if minimum is not None else ""
        raise ValidationError(f"{argument} must be a finite number{floor}, got {describe(value)}.")
    return result


def limit(value: Any, argument: str = "limit") -> int | None:
    """A list limit: ``None``, ``0`` or a negative number mean "all"."""
    if value is None or value == "":
        return None
    count = whole_number(value, argument, maximum=sys.maxsize)
    return count if count > 0 else None


def flag(value: Any, argument: str) -> bool:
    """``True`` or ``False`` (``None``: False). A text such as "False" is refused: it would count as true."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationError(
            f"{argument} must be True or False, got {describe(value)}.", hint=f"Pass {argument}=${{True}} in a robot."
        )
    return value


def optional_flag(value: Any, argument: str) -> bool | None:
    return None if value is None else flag(value, argument)


# -- bodies ---------------------------------------------------------------------------------------


def json_value(value: Any, argument: str) -> Any:
    """``value`` if it is a JSON value all the way down (what a request body may hold), else one line."""
    stack: list[tuple[Any, str, int]] = [(value, argument, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValidationError(f"{where} is nested more than {MAX_DEPTH} levels deep.")
        if item is None or isinstance(item, (bool, int)):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                raise ValidationError(f"{where} is {item}, which JSON cannot carry.", hint="Pass a finite number.")
        elif isinstance(item, str):
            if _unicode_problem(item):
                raise ValidationError(f"{where} {_unicode_problem(item)}.", hint="Pass valid text.")
        elif isinstance(item, Mapping):
            for name, inner in item.items():
                if not isinstance(name, str) or _unicode_problem(name):
                    raise ValidationError(f"{where} has a key that is not valid text: {_short(name)}.")
                stack.append((inner, f"{where}[{name!r}]", depth + 1))
        elif isinstance(item, (list, tuple)):
            stack.extend((inner, f"{where}[{index}]", depth + 1) for index, inner in enumerate(item))
        else:
            raise ValidationError(
                f"{where} is {describe(item)}, which is not a JSON value.",
                hint="Use texts, numbers, True/False, None, lists and dictionaries (dates as text, e.g. 2024-05-01).",
            )
    return value


def parsed_json(text: str, argument: str, hint: str) -> Any:
    """``text`` (JSON written in a robot) parsed, or one line saying ``argument`` is not valid JSON."""
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValidationError(f"{argument} is not valid JSON ({error}).", hint=hint) from None


def mapping(value: Any, argument: str, *, allow_empty: bool = True, from_json: bool = False) -> dict[str, Any]:
    """``value`` as a body object: a dictionary with field-name keys and JSON values (JSON text too, when
    ``from_json``)."""
    if from_json and isinstance(value, str) and value.strip().startswith("{"):
        value = parsed_json(value, argument, "Write it as a JSON object.")
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{argument} must be a dictionary, got {describe(value)}.",
            hint="Pass field: value pairs, e.g. a dictionary made with Create Dictionary.",
        )
    if not allow_empty and not value:
        raise ValidationError(f"{argument} is empty.", hint="Give at least one field.")
    for name in value:
        key(name, argument)
    json_value(value, argument)
    return dict(value)


def merged(value: Any, fields: Mapping[str, Any], argument: str) -> dict[str, Any]:
    """A dictionary argument (optional) with named arguments over it: ``Create X    ${dict}    name=…``."""
    if value is not None and not isinstance(value, Mapping):
        mapping(value, argument)  # refuses it, naming the argument
    return mapping({**(value or {}), **fields}, argument)


def is_list(value: Any) -> bool:
    """A list of items, as opposed to one item: a text, bytes or a dictionary is not a list."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray, Mapping))


def records(value: Any, argument: str, *, allow_empty: bool = True) -> list[dict[str, Any]]:
    """A list of body objects; a single dictionary or a string is refused, not iterated."""
    if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"{argument} must be a list of dictionaries, got {describe(value)}.",
            hint="Pass a list, e.g. made with Create List, whose items are dictionaries.",
        )
    return [mapping(item, f"{argument}[{index}]", allow_empty=allow_empty) for index, item in enumerate(value)]


# -- files ----------------------------------------------------------------------------------------


def existing_file(value: Any, argument: str) -> Path:
    """The path of a readable file; anything else is one configuration line naming the argument."""
    if not isinstance(value, (str, os.PathLike)):
        raise ValidationError(f"{argument} must be a file path, got {describe(value)}.")
    name = os.fspath(value)
    if not isinstance(name, str) or not name.strip() or _line_problem(name):
        raise ValidationError(f"{argument} is not a usable file path: {_short(name)}.")
    try:
        found = Path(name).is_file()
    except (OSError, ValueError):
        found = False
    if not found:
        raise ConfigurationError(
            f"File {_short(name)} ({argument}) does not exist.",
            hint="Check the path (relative paths are from the working directory).",
        )
    return Path(name)
