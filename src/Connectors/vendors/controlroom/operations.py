"""Control Room's /api/v1: every operation of the spec, from ``operations.json`` (tools/make_operations.py)."""

from __future__ import annotations

from Connectors.core.operations import OperationTable

OPERATIONS = OperationTable.beside(__file__)
