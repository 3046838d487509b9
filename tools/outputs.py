"""Output handling shared by the test runners: run a command while keeping its console output, and
search output files for secret values in every form (tools/check_secrets.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import check_secrets


def run_teed(command: list[str], console: Path, cwd: Path, env: Mapping[str, str]) -> int:
    """Run ``command``, echoing its output and writing it to ``console`` (searched for secrets later)."""
    with console.open("w", encoding="utf-8") as handle:
        process = subprocess.Popen(
            command, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout
        for line in process.stdout:
            sys.stdout.write(line)
            handle.write(line)
        return process.wait()


def find_leaks(secrets: set[str], files: Iterable[Path], pairs: Iterable[tuple[str, str]] = ()) -> list[str]:
    """One line per (file, form, secret) found, in every form tools/check_secrets.py knows (plain, base64,
    percent-encoded, JSON- and HTML-escaped, hex, Basic ``user:password``); the secret itself is never printed."""
    pairs = list(pairs)
    labelled = check_secrets.label([*secrets, *(secret for _, secret in pairs)])
    by_value = {secret.value: secret for secret in labelled}
    named = [(user, by_value[secret]) for user, secret in pairs]
    return [str(leak) for leak in check_secrets.find_leaks(labelled, files, named)]


def run_files(folder: Path) -> list[Path]:
    """Every file a run left under ``folder``, except those whose purpose is to hold credentials."""
    return check_secrets.files_under(folder)


def report(secrets: set[str], files: list[Path], pairs: Iterable[tuple[str, str]] = ()) -> list[str]:
    pairs = list(pairs)
    leaks = find_leaks(secrets, files, pairs)
    print(
        f"Secret check: {len(secrets)} secret values and {len(pairs)} Basic pairs searched in every form "
        f"in {len(files)} files: {len(leaks)} found."
    )
    for leak in leaks:
        print(f"  LEAK {leak}")
    return leaks


def python_task_output(name: str, passed: bool, summary: str, log: str, target: Path, seconds: float = 0.0) -> Path:
    """A Robot Framework output.xml standing for a task that is not a Robot Framework run (a robocorp.tasks
    task), so that the merged log.html and report.html list every task of robot.yaml: its status, its
    summary line as the message, and a link to the task's own log."""
    from robot.result import Result, TestSuite

    suite = TestSuite(
        name=name,
        doc=f"A Python task (robocorp.tasks). Its own log: [{log}|{Path(log).name}]",
        metadata={"Summary": summary} if summary else None,
        rpa=True,
        elapsed_time=seconds,
    )
    test = suite.tests.create(name=name, status="PASS" if passed else "FAIL", message=summary, elapsed_time=seconds)
    test.body.create_keyword(name="See the task's own log", status=test.status, elapsed_time=seconds)
    Result(suite=suite, rpa=True).save(target)
    return target
