"""Reading a vendor's error body from a description of its shape, instead of a parser per vendor."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests


@dataclass(frozen=True)
class ErrorFormat:
    """Where a vendor puts the parts of an error body.

    Paths are dotted (``error.message``); the first one that holds a non-empty string wins.
    ``fields`` holds field errors either as a list of objects (``[{"field": "name", "message": "…"}]``)
    or as a mapping of field names to a message or a list of messages (``{"name": ["can't be blank"]}``).
    """

    message: tuple[str, ...] = ("message", "detail", "error_description", "error", "title")
    code: tuple[str, ...] = ()
    fields: tuple[str, ...] = ("errors",)
    field_name: tuple[str, ...] = ("field", "name", "path", "source.pointer")
    field_message: tuple[str, ...] = ("message", "defaultMessage", "detail", "msg")
    # Field names that stand for the object as a whole and are shown without a name.
    whole_object: tuple[str, ...] = ("base",)
    # Prefixes dropped from a field name, e.g. a JSON pointer's ``/data/attributes/`` (JSON:API errors).
    field_prefixes: tuple[str, ...] = ()
    max_length: int = 500

    def read(self, response: requests.Response) -> str:
        """The vendor's message for an error answer, in one line (its text when the body is not JSON)."""
        try:
            body = response.json()
        except ValueError:
            return " ".join(response.text.split())[:300]
        return self.message_of(body)

    def message_of(self, body: Any) -> str:
        if not isinstance(body, Mapping):
            return json.dumps(body)[:300]
        message = _first_text(body, self.message)
        code = _first_text(body, self.code)
        details = self._field_errors(body)
        text = message
        if details:
            text = f"{message} ({details})" if message else details
        if code and code not in text:
            text = f"[{code}] {text}" if text else code
        if not text:
            text = json.dumps(body)
        return " ".join(text.split())[: self.max_length]

    def _field_errors(self, body: Mapping[str, Any]) -> str:
        for path in self.fields:
            errors = _get(body, path)
            if isinstance(errors, Mapping) and errors:
                return "; ".join(self._named(str(name), value) for name, value in errors.items())
            if isinstance(errors, list) and errors:
                return "; ".join(self._item(item) for item in errors)
        return ""

    def _named(self, name: str, value: Any) -> str:
        texts = value if isinstance(value, list) else [value]
        joined = ", ".join(str(text) for text in texts)
        return joined if name in self.whole_object else f"{name}: {joined}"

    def _item(self, item: Any) -> str:
        if not isinstance(item, Mapping):
            return str(item)
        name, text = self._field(_first_text(item, self.field_name)), _first_text(item, self.field_message)
        return f"{name}: {text}" if name and name not in self.whole_object else text or json.dumps(item)

    def _field(self, name: str) -> str:
        for prefix in self.field_prefixes:
            if name.startswith(prefix) and len(name) > len(prefix):
                return name[len(prefix) :]
        return name


def _get(body: Any, path: str) -> Any:
    value = body
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _first_text(body: Mapping[str, Any], paths: tuple[str, ...]) -> str:
    for path in paths:
        value = _get(body, path)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    return ""
