"""tools/run_acceptance.py fails a run that lost tests: a Robot Framework [ ERROR ] (here a misspelled section
header in a file dropped into a copy of the acceptance tree), a suite file that ran nothing, a skip under CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(tree: Path, artifacts: Path, ci: bool = False, *options: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci:
        env["CI"] = "1"
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "run_acceptance.py"), "--artifacts", str(artifacts), *options, str(tree)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_misspelled_section_header_in_the_acceptance_tree_fails_the_run_and_is_named(tmp_path: Path) -> None:
    tree = tmp_path / "acceptance"
    shutil.copytree(ROOT / "tests" / "acceptance", tree)
    typo = tree / "robaws" / "typo.robot"
    typo.write_text(
        "*** Settings ***\nDocumentation    Its tests are lost.\n\n*** Tset Cases ***\nLost\n    No Operation\n"
    )
    result = _run(tree, tmp_path / "out")
    assert result.returncode == 1, result.stdout[-3000:]
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("INCOMPLETE [ ERROR ]") and str(typo) in line and "'*** Tset Cases ***'" in line
        for line in lines
    ), result.stdout[-3000:]
    assert f"INCOMPLETE {typo}: no test ran" in lines


def _tiny_tree(tmp_path: Path, body: str) -> Path:
    tree = tmp_path / "tiny"
    tree.mkdir()
    (tree / "ok.robot").write_text(f"*** Test Cases ***\nRuns\n    {body}\n")
    return tree


def test_a_whole_clean_tree_passes(tmp_path: Path) -> None:
    result = _run(_tiny_tree(tmp_path, "Log    nothing secret"), tmp_path / "out")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "INCOMPLETE" not in result.stdout and "0 found." in result.stdout


def test_a_robot_framework_skip_fails_in_ci_and_is_named(tmp_path: Path) -> None:
    tree = _tiny_tree(tmp_path, "Skip    no vendor account here")
    assert _run(tree, tmp_path / "out").returncode == 0  # locally a skip stays a skip
    result = _run(tree, tmp_path / "out-ci", ci=True)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "INCOMPLETE skipped in CI: Tiny.Ok.Runs" in result.stdout
    assert "SKIPPED Tiny.Ok.Runs: no vendor account here" in result.stdout


def test_fewer_tests_than_the_tree_holds_fail_the_run(tmp_path: Path) -> None:
    """Tests lost on the way without an error (here a pre-run modifier drops one): the count names it."""
    tree = _tiny_tree(tmp_path, "Log    first")
    (tree / "ok.robot").write_text("*** Test Cases ***\nRuns\n    Log    one\nAlso Runs\n    Log    two\n")
    dropper = tmp_path / "DropLast.py"
    dropper.write_text(
        "from robot.api import SuiteVisitor\n\n\nclass DropLast(SuiteVisitor):\n"
        "    def start_suite(self, suite):\n        if suite.tests:\n            suite.tests.pop()\n"
    )
    result = _run(tree, tmp_path / "out", False, "--prerunmodifier", str(dropper))
    assert result.returncode == 1, result.stdout[-3000:]
    assert "INCOMPLETE 1 tests ran of the 2 the suites hold" in result.stdout
