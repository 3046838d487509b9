"""A vendor's operations as the sandbox serves them: the table generated from the vendor's spec.

tools/make_operations.py writes ``<vendor>/operations.json`` from the spec. The sandbox builds its routes and
its access checks from those rows (method, path template, the scope a token needs), so nothing it serves
under a spec'd API is a hand-copied list that can drift from the spec.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Operation:
    """What a server needs of a spec'd operation: its route, the query it knows and the scope it requires."""

    id: str
    method: str
    path: str
    query: tuple[tuple[str, bool], ...]  # (name, required)
    scope: str


def load(module_file: str) -> dict[str, Operation]:
    """The operations of ``operations.json`` next to ``module_file``, by id, in the spec's order."""
    data = json.loads(Path(module_file).with_name("operations.json").read_text(encoding="utf-8"))
    columns = data["columns"]
    table = {}
    for values in data["operations"]:
        row = dict(zip(columns, values, strict=True))
        query = tuple((name, bool(required)) for name, required in row["query"])
        table[row["id"]] = Operation(row["id"], row["method"], row["path"], query, row["scope"])
    return table
