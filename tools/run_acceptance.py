"""Runs the Robot Framework acceptance suites at TRACE level against one sandbox, then proves the run whole and
clean:

- no ``[ ERROR ]`` Robot Framework reported (a file it could not parse, a library or resource it could not
  import, an unknown section such as ``*** Tset Cases ***``): ``--exitonerror`` stops the run at the first, and
  every error in output.xml is named;
- every ``.robot`` file of the tree ran tests, and as many tests ran as the tree holds (a file whose tests were
  lost costs one ``[ ERROR ]`` line and would otherwise pass unnoticed); not checked when a selection option
  (``--test``, ``--include``, ...) asks for fewer on purpose;
- no test skipped under ``CI`` unless tests/allowed_skips.txt lists it;
- no secret leaked: every credential, token and webhook secret the sandbox minted or accepts, and its Basic
  ``user:password`` pairs, searched in every form (tools/check_secrets.py) in every file the run left.

    python tools/run_acceptance.py [--artifacts DIR] [robot options and suites]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from connectors_sandbox.server import SandboxProcess  # noqa: E402
from support import skip_guard  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
import check_secrets  # noqa: E402
from outputs import report, run_files, run_teed  # noqa: E402

# Robot Framework options that select fewer tests than the tree holds, on purpose.
SELECTION = ("-t", "--test", "--task", "-s", "--suite", "-i", "--include", "-e", "--exclude", "-R", "--rerunfailed")


def suite_paths(arguments: list[str]) -> list[Path]:
    """The suite files and folders among robot's arguments (what follows the options)."""
    paths = [Path(argument) for argument in arguments if not argument.startswith("-")]
    return [path for path in paths if path.is_dir() or (path.suffix == ".robot" and path.is_file())]


def completeness(output_xml: Path, paths: list[Path], selected: bool) -> list[str]:
    """One line per problem: each error Robot Framework reported, each suite file that ran no test, and fewer
    tests run than the tree holds."""
    from robot.api import ExecutionResult
    from robot.running.builder import TestSuiteBuilder

    result = ExecutionResult(str(output_xml))
    problems = [f"[ ERROR ] {message.message}" for message in result.errors.messages if message.level == "ERROR"]
    if selected:
        return problems
    files = sorted(
        {file.resolve() for path in paths for file in ([path] if path.is_file() else path.rglob("*.robot"))}
        - {file.resolve() for path in paths if path.is_dir() for file in path.rglob("__init__.robot")}
    )
    ran = {Path(test.source).resolve() for test in result.suite.all_tests if test.source}
    problems += [
        f"{file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}: no test ran"
        for file in files
        if file not in ran
    ]
    expected = TestSuiteBuilder(included_extensions=("robot",)).build(*map(str, paths)).test_count
    total = result.suite.statistics.total
    if total < expected:
        problems.append(f"{total} tests ran of the {expected} the suites hold")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--artifacts", type=Path, default=ROOT / "output" / "acceptance")
    own, robot_arguments = parser.parse_known_args()
    out: Path = own.artifacts.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("output.xml", "log.html", "report.html", "console.txt", "sandbox.log"):
        (out / stale).unlink(missing_ok=True)
    sandbox_log = out / "sandbox.log"
    suites = robot_arguments if suite_paths(robot_arguments) else [*robot_arguments, str(ROOT / "tests" / "acceptance")]
    with SandboxProcess(demo=True, log_file=sandbox_log) as sandbox:
        env = dict(
            os.environ,
            CONNECTORS_SANDBOX_URL=sandbox.url,
            SANDBOX_LOG_DIR=str(out),
            CONNECTORS_TOKEN_STORE=str(out / "tokens.json"),
        )
        console = out / "console.txt"
        command = [
            sys.executable,
            "-m",
            "robot",
            "--exitonerror",
            "--loglevel",
            "TRACE",
            "--outputdir",
            str(out),
            "--pythonpath",
            str(ROOT / "tests" / "acceptance" / "resources"),
            *suites,
        ]
        result = run_teed(command, console, ROOT, env)
        secrets = set(sandbox.admin("GET", "/_sandbox/secrets"))
        pairs = check_secrets.basic_pairs(sandbox.environment())
    leaks = report(secrets, run_files(out), pairs)
    problems: list[str] = []
    if (out / "output.xml").is_file():
        selected = any(argument.split("=")[0] in SELECTION for argument in robot_arguments)
        problems = completeness(out / "output.xml", suite_paths(suites), selected)
        skips = skip_guard.robot_skips(out / "output.xml")
        failing = skip_guard.unexpected(skips, skip_guard.load_allowed()) if skip_guard.in_ci() else []
        for line in skip_guard.describe(skips, failing, skip_guard.in_ci()):
            print(line)
        problems += [f"skipped in CI: {skip.test}" for skip in failing]
    else:
        problems.append("Robot Framework wrote no output.xml")
    for problem in problems:
        print(f"INCOMPLETE {problem}")
    if result != 0:
        print(f"Acceptance suites failed (robot exit code {result}).")
    return 1 if (result != 0 or leaks or not secrets or problems) else 0


if __name__ == "__main__":
    sys.exit(main())
