"""Skips are failures in CI: a skipped or xfailed test (pytest) or a skipped Robot Framework test fails a run
with ``CI`` set unless ``tests/allowed_skips.txt`` lists it, with its reason.

A skip hides a missing check behind a green run (a ``redis-server`` that failed to install skips every Redis
test; a missing package skips the peer tests). Locally a skip stays a skip, since a developer's machine may
lack what CI installs, but it is still listed at the end of the run.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ALLOW_LIST = Path(__file__).resolve().parents[1] / "allowed_skips.txt"


@dataclass(frozen=True)
class Skip:
    test: str  # a pytest node id, or a Robot Framework test's full name
    reason: str
    kind: str = "skipped"  # or "xfailed"


def in_ci(environ: dict[str, str] | None = None) -> bool:
    value = (environ if environ is not None else os.environ).get("CI", "")
    return value.strip().lower() not in ("", "0", "false", "no")


def load_allowed(path: Path = ALLOW_LIST) -> dict[str, str]:
    """``test-id-or-glob  # reason`` a line; a line without a reason is an error, since the list exists to say
    why each skip is acceptable."""
    allowed: dict[str, str] = {}
    if not path.is_file():
        return allowed
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        test, _, reason = line.partition(" # ")
        if not reason.strip():
            raise ValueError(f"{path.name}:{number}: '{line.strip()}' has no reason; write 'TEST  # why it may skip'.")
        allowed[test.strip()] = reason.strip()
    return allowed


def unexpected(skips: Iterable[Skip], allowed: dict[str, str]) -> list[Skip]:
    """The skips no allow-list entry (an exact id or a glob pattern) covers."""
    return [skip for skip in skips if not any(fnmatch.fnmatchcase(skip.test, pattern) for pattern in allowed)]


def describe(skips: list[Skip], failing: list[Skip], ci: bool) -> list[str]:
    """The lines that end a run: every skip, and under CI the verdict."""
    if not skips:
        return []
    lines = [f"{len(skips)} test(s) skipped or xfailed:"]
    lines += [f"  {skip.kind.upper()} {skip.test}: {skip.reason}" for skip in skips]
    if ci and failing:
        lines.append(
            f"CI: {len(failing)} of them not in {ALLOW_LIST.relative_to(ALLOW_LIST.parents[1])}; skips fail CI "
            "(install what they need, or list them there with the reason): " + ", ".join(skip.test for skip in failing)
        )
    return lines


def robot_skips(output_xml: Path) -> list[Skip]:
    """The skipped tests of a Robot Framework run, by full name, with their messages."""
    from robot.api import ExecutionResult, ResultVisitor

    found: list[Skip] = []

    class Collect(ResultVisitor):  # type: ignore[misc]
        def visit_test(self, test: object) -> None:
            if getattr(test, "skipped", False):
                found.append(Skip(getattr(test, "full_name", getattr(test, "longname", "")), test.message))  # type: ignore[attr-defined]

    ExecutionResult(str(output_xml)).visit(Collect())
    return found
