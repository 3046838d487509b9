"""The fault matrices' figures: the reliability acceptance suites run (tools/run_acceptance.py, which also fails on
any [ ERROR ], a lost suite or a leaked secret), then one row per test from their output.xml - the faults asked
for, the faults met (counted by the sandbox when applied: the error sent, the connection aborted, the answer
dropped), the replays of lost answers or repeats of the keyword, and the verdict (each test asserts every
object once: none lost, none duplicated).

    python bench/fault_matrices.py [--artifacts output/figures/fault-matrices] [SUITE ...]
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

from _support import ROOT, print_table

MET = re.compile(r"^Faults (?:met|injected): (\{[^}]*\})")
COUNTS = re.compile(r"(idempotent replays|idempotency key|repeats of the keyword): (\d+)")


def rows(output_xml: Path) -> list[list[object]]:
    from robot.api import ExecutionResult, ResultVisitor

    table: list[list[object]] = []

    class Collect(ResultVisitor):  # type: ignore[misc]
        def visit_test(self, test) -> None:  # type: ignore[no-untyped-def]
            met: dict[str, int] = {}
            counts: list[str] = []
            for message in _messages(test):
                if found := MET.match(message):
                    for kind, value in ast.literal_eval(found.group(1)).items():
                        met[kind] = met.get(kind, 0) + int(value)
                counts += [
                    f"{number} {'repeats' if 'repeats' in what else 'replays'}"
                    for what, number in COUNTS.findall(message)
                ]
            shown = ", ".join(f"{kind} {value}" for kind, value in met.items() if value) or "none"
            table.append([test.parent.name, test.name, shown, "; ".join(dict.fromkeys(counts)), test.status])

    ExecutionResult(str(output_xml)).visit(Collect())
    return table


def _messages(item: object) -> list[str]:
    """Every message logged under a test, however deep its keywords go."""
    found = []
    for child in getattr(item, "body", []):
        if getattr(child, "type", "") == "MESSAGE":
            found.append(str(child.message))
        else:
            found += _messages(child)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=Path, default=ROOT / "output" / "figures" / "fault-matrices")
    parser.add_argument("suites", nargs="*", default=[str(ROOT / "tests" / "acceptance" / "reliability")])
    args = parser.parse_args()
    command = [sys.executable, str(ROOT / "tools" / "run_acceptance.py"), "--artifacts", str(args.artifacts)]
    code = subprocess.run([*command, "--console", "dotted", *args.suites], cwd=ROOT, check=False).returncode
    output = args.artifacts / "output.xml"
    if not output.is_file():
        print("fault matrices: Robot Framework wrote no output.xml")
        return 1
    print()
    print_table(["suite", "test", "faults met", "replays / repeats", "result"], rows(output))
    print(
        "\nfaults met: counted by the sandbox when applied. result PASS: every object once (none lost, none "
        "duplicated), every fault kind asked for met."
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
