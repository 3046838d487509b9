"""Generates the keyword documentation (Libdoc HTML) of every library into docs/.

python tools/make_docs.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from robot.libdoc import libdoc

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ["Robaws", "Cobot", "ControlRoom", "Robostack"]


def main() -> int:
    sys.path.insert(0, str(ROOT / "src"))
    failures = 0
    for name in LIBRARIES:
        target = ROOT / "docs" / f"{name}.html"
        rc = libdoc(f"Connectors.{name}", str(target), name=name, quiet=True)
        failures += rc != 0
        print(f"{target.relative_to(ROOT)}: {'ok' if rc == 0 else 'FAILED'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
