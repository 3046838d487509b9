"""Cobot API 2: the spec's operations the sandbox routes by, from ``operations.json``."""

from __future__ import annotations

from connectors_sandbox.operations import load

OPERATIONS = load(__file__)
