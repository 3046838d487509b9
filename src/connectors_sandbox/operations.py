"""A vendor's operations as the sandbox serves them: rows of a table generated from the vendor's spec.

tools/make_operations.py writes ``<vendor>/operations.py`` from the spec. The sandbox builds its routes and
its access checks from those rows (method, path template, the scope a token needs), so nothing it serves
under a spec'd API is a hand-copied list that can drift from the spec.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class Operation(NamedTuple):
    id: str
    method: str
    path: str
    path_params: tuple[str, ...]
    query: tuple[tuple[str, bool], ...]
    body: bool
    scope: str


class OperationTable(dict[str, Operation]):
    """Operations by id; ``by_route`` finds the one a (method, path template) serves."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        super().__init__((operation.id, operation) for operation in operations)
        self._routes = {(operation.method, operation.path): operation for operation in self.values()}

    def by_route(self, method: str, path: str) -> Operation:
        """The operation at ``method path`` (the spec's template), or KeyError naming both."""
        try:
            return self._routes[(method.upper(), path)]
        except KeyError:
            raise KeyError(f"the spec has no operation {method.upper()} {path}") from None
