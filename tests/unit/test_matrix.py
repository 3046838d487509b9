"""tools/matrix.py: an entry whose Python is missing is reported as skipped, and fails the run under CI."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import matrix


@pytest.mark.parametrize(("ci", "argv", "code"), [("", [], 0), ("true", [], 1), ("", ["--ci"], 1)])
def test_a_missing_interpreter_fails_only_under_ci(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ci: str, argv: list[str], code: int
) -> None:
    monkeypatch.setattr(matrix, "interpreter", lambda version: None)
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(sys, "argv", ["matrix.py", *argv])
    assert matrix.main() == code
    output = capsys.readouterr().out
    assert "SKIPPED (no python3.10 on this machine)" in output
    assert ("without an interpreter fail CI" in output) is bool(code)
