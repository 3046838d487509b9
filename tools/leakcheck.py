"""Searches output files for secret values (the ones the sandbox minted or accepts)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def find_leaks(secrets: set[str], files: Iterable[Path]) -> list[str]:
    """One line per (file, secret) found; the secret itself is never printed."""
    leaks = []
    for path in files:
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in secrets:
            if secret in text:
                leaks.append(f"{path}: a secret of {len(secret)} characters starting {secret[:2]!r}")
    return leaks


def report(secrets: set[str], files: list[Path]) -> list[str]:
    leaks = find_leaks(secrets, files)
    names = sorted({f.name for f in files if f.exists()})
    print(f"Secret check: {len(secrets)} secret values searched in {len(files)} files "
          f"({', '.join(names)}): {len(leaks)} found.")
    for leak in leaks:
        print(f"  LEAK {leak}")
    return leaks
