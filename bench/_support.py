"""Helpers shared by the benchmarks: the source tree and the test servers on the path, table printing.

The throwaway Redis and the strict rate-limited server are the tests' own (``tests/support``), so a
benchmark measures against exactly what the tests check.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    cells = [headers] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        pairs = enumerate(zip(row, widths, strict=True))
        print("  ".join(str(v).rjust(w) if i else str(v).ljust(w) for i, (v, w) in pairs))
        if index == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
