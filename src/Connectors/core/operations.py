"""A vendor's operations as data: the rows of the table tools/make_operations.py generates from its spec.

A client names an operation by the spec's id and gives its parameters by the spec's names; the table turns
that into a request path (every value one validated, percent-encoded segment), refuses a missing required
parameter or an unknown one before anything is sent, and names the permission or scope a 403 points at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from Connectors.core import paths
from Connectors.core.errors import ValidationError

_PLACEHOLDER = re.compile(r"{([^}]+)}")


class Operation(NamedTuple):
    id: str
    method: str
    path: str
    path_params: tuple[str, ...]
    query: tuple[tuple[str, bool], ...]
    body: bool
    scope: str

    @property
    def query_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.query)

    def describe(self) -> str:
        """``GET /processes/{process_id}`` with what it takes, for one-line errors."""
        taken = [*self.path_params, *(name if required else f"{name}?" for name, required in self.query)]
        body = "; a body" if self.body else ""
        return f"{self.id} ({self.method} {self.path}; takes {', '.join(taken) or 'no parameters'}{body})"

    def expand(self, values: Mapping[str, Any]) -> str:
        """The path with each ``{name}`` replaced by ``values[name]`` as one encoded segment."""
        return _PLACEHOLDER.sub(lambda match: paths.segment(values[match.group(1)], match.group(1)), self.path)

    def split(self, parameters: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """(path, query) from parameters named as the spec names them; unknown or missing ones fail first."""
        known = set(self.path_params) | set(self.query_names)
        unknown = sorted(set(parameters) - known)
        missing = [name for name in self.path_params if parameters.get(name) in (None, "")]
        missing += [name for name, required in self.query if required and parameters.get(name) in (None, "")]
        if unknown or missing:
            problems = []
            if missing:
                problems.append("missing " + ", ".join(missing))
            if unknown:
                problems.append("unknown " + ", ".join(unknown))
            raise ValidationError(f"{'; '.join(problems)} for operation {self.describe()}.")
        query = {name: parameters[name] for name in self.query_names if parameters.get(name) is not None}
        return self.expand(parameters), query


class OperationTable(Mapping[str, Operation]):
    """Operations by id, in the spec's order."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self._by_id = {operation.id: operation for operation in operations}

    @classmethod
    def beside(cls, module_file: str) -> OperationTable:
        """The table generated next to a vendor module (``operations.json``, tools/make_operations.py)."""
        data = json.loads(Path(module_file).with_name("operations.json").read_text(encoding="utf-8"))
        return cls(
            Operation(id, method, path, tuple(names), tuple((q, bool(r)) for q, r in query), bool(body), scope)
            for id, method, path, names, query, body, scope in data["operations"]
        )

    def __getitem__(self, operation_id: str) -> Operation:
        try:
            return self._by_id[operation_id]
        except KeyError:
            raise ValidationError(
                f"Unknown operation {operation_id!r}: the spec has {len(self._by_id)} operations.",
                hint="Use an operationId from the vendor's spec (the coverage table in the docs lists them).",
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, operation_id: object) -> bool:
        return operation_id in self._by_id

    def scope(self, operation_id: str) -> str:
        """The permission or scope the spec requires for the operation ("" when it requires none)."""
        operation = self._by_id.get(operation_id)
        return operation.scope if operation else ""
