"""core/progress: a line at most every 10 s of a long operation and none for a quick one; long pauses
announced with how long and why, once per 10 s per limit; the lines reach the console and the log at INFO
in Robot Framework, and pass the redactor."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from Connectors.core import progress
from Connectors.core.redact import redactor


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_quick_operation_writes_nothing() -> None:
    clock, lines = Clock(), []
    report = progress.Progress(clock=clock, write=lines.append)
    for _ in range(50):
        clock.now += 0.19  # 9.5 s in all
        report.update(lambda elapsed: f"{elapsed:.0f} s")
    assert lines == []


def test_a_long_operation_writes_at_most_one_line_every_ten_seconds() -> None:
    clock, lines = Clock(), []
    report = progress.Progress(clock=clock, write=lines.append)
    built = []

    def describe(elapsed: float) -> str:
        built.append(elapsed)
        return f"after {elapsed:.0f} s"

    for _ in range(120):
        clock.now += 0.5  # 60 s in all
        report.update(describe)
    assert lines == [f"after {n} s" for n in (10, 20, 30, 40, 50, 60)]
    assert len(built) == len(lines)  # the line is built only when written


def test_long_pauses_say_how_long_and_why_once_per_ten_seconds_per_key() -> None:
    clock, lines = Clock(), []
    key = "test-pauses"
    assert not progress.pause(2.0, "short", key=key, clock=clock, write=lines.append)
    assert progress.pause(12.4, "Robaws rate limit 10/s", key=key, clock=clock, write=lines.append)
    clock.now += 3
    assert not progress.pause(12.0, "Robaws rate limit 10/s", key=key, clock=clock, write=lines.append)
    assert progress.pause(30.0, "another bucket", key="other-" + key, clock=clock, write=lines.append)
    clock.now += 10
    assert progress.pause(7.0, "Robaws rate limit 10/s", key=key, clock=clock, write=lines.append)
    assert lines == [
        "Pausing 12 s: Robaws rate limit 10/s.",
        "Pausing 30 s: another bucket.",
        "Pausing 7 s: Robaws rate limit 10/s.",
    ]


def test_outside_robot_framework_the_lines_go_to_logging_at_info(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    report = progress.Progress(clock=clock)
    clock.now += 11
    with caplog.at_level(logging.INFO, logger="Connectors"):
        report.update(lambda elapsed: "Creating records: 5 of 10 done")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.INFO, "Creating records: 5 of 10 done")]


def test_in_robot_framework_a_line_reaches_the_console_and_the_log_at_info_redacted(tmp_path: Path) -> None:
    secret = "progress-secret-value-81f3"
    (tmp_path / "ProgressLib.py").write_text(
        textwrap.dedent(
            f"""
            from Connectors.core import progress
            from Connectors.core.redact import redactor

            class Clock:
                now = 0.0
                def __call__(self):
                    return self.now

            def report_progress():
                redactor.register({secret!r})
                clock = Clock()
                report = progress.Progress(clock=clock)
                clock.now = 10.5
                report.update(lambda s: "Waiting with {secret} after %.0f s" % s)
            """
        )
    )
    (tmp_path / "suite.robot").write_text(
        "*** Settings ***\nLibrary    ProgressLib.py\n\n*** Test Cases ***\nT\n    Report Progress\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "robot",
            "--outputdir",
            str(tmp_path),
            "--log",
            "NONE",
            "--report",
            "NONE",
            "suite.robot",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Waiting with *** after 10 s" in result.stdout
    assert secret not in result.stdout
    output = (tmp_path / "output.xml").read_text()
    assert 'level="INFO">Waiting with *** after 10 s</msg>' in output
    assert secret not in output
    assert redactor.redact(secret) == secret  # the child's registration stays in the child


def test_a_long_throttle_pause_says_how_long_and_why(caplog: pytest.LogCaptureFixture) -> None:
    from Connectors.core.config import RateSpec
    from Connectors.core.throttle import Throttle

    slept: list[float] = []
    throttle = Throttle("progress-pause", RateSpec(1, 60, burst=1), vendor="Robaws", sleep=slept.append)
    with caplog.at_level(logging.INFO, logger="Connectors"):
        throttle.acquire("GET", "/x")  # the burst: no pause
        throttle.acquire("GET", "/x")  # a minute's pause
    pauses = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Pausing")]
    assert len(slept) == 1 and slept[0] > 50
    assert pauses == [f"Pausing {slept[0]:.0f} s: Robaws rate limit {RateSpec(1, 60, burst=1)}."]
