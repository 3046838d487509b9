"""Must-show of issue 23: what the console shows while `Wait For Process Runs` waits for 20 runs at the
sandbox's real speed (no time scaling: runs of 4 to 42 s, three of them ending unresolved). A progress line
at most every 10 s - runs done, failed, pending and the next poll - and the same lines at INFO in the log.
The console is saved to output/progress/wait-for-process-runs.txt (docs/progress.md shows a capture)."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from connectors_sandbox.server import SandboxProcess

ROOT = Path(__file__).resolve().parents[2]
CAPTURE = ROOT / "output" / "progress" / "wait-for-process-runs.txt"
LINE = re.compile(
    r"^Waiting for 20 process run\(s\) for (\d+) s: (\d+) done, (\d+) failed, (\d+) pending; next poll in \d+ s\.$"
)

pytestmark = pytest.mark.timeout(240)

SUITE = textwrap.dedent(
    """\
    *** Settings ***
    Library    Collections
    Library    Connectors.ControlRoom

    *** Test Cases ***
    Wait For Twenty Runs
        ${payloads} =    Evaluate    [{"invoice": f"INV-{n}", "sandbox": {"seconds": 4 + 2 * n}} for n in range(20)]
        FOR    ${n}    IN    3    10    17
            Set To Dictionary    ${payloads}[${n}][sandbox]    outcome=unresolved
        END
        ${runs} =    Trigger Process Runs    Invoice Processing    ${payloads}
        ${done} =    Wait For Process Runs    ${runs}    timeout=300    fail_on_unresolved=${False}
        ${states} =    Evaluate    sorted(run["state"] for run in $done)
        Log To Console    states: ${states}
    """
)


def test_a_long_wait_shows_progress_lines_on_the_console_and_in_the_log(tmp_path: Path) -> None:
    (tmp_path / "wait.robot").write_text(SUITE)
    with SandboxProcess() as sandbox:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLROOM_")}
        env.update(sandbox.environment())
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "robot",
                "--outputdir",
                str(tmp_path),
                "--report",
                "NONE",
                "--log",
                "NONE",
                "--consolewidth",
                "100",
                "wait.robot",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=220,
        )
    CAPTURE.parent.mkdir(parents=True, exist_ok=True)
    CAPTURE.write_text(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    progress = [m for line in result.stdout.splitlines() if (m := LINE.match(line.strip()))]
    assert len(progress) >= 3, result.stdout
    elapsed = [int(m.group(1)) for m in progress]
    assert elapsed[0] >= 10 and all(b - a >= 10 for a, b in itertools.pairwise(elapsed)), elapsed
    assert all(sum(int(m.group(i)) for i in (2, 3, 4)) == 20 for m in progress)
    assert int(progress[-1].group(4)) < int(progress[0].group(4))  # runs finish as it waits
    assert any(int(m.group(3)) > 0 for m in progress)  # the unresolved ones are counted as failed
    assert "states: ['completed'" in result.stdout and result.stdout.count("'unresolved'") == 3
    output = (tmp_path / "output.xml").read_text()
    logged = re.findall(r'<msg [^>]*level="INFO">(Waiting for 20 process run[^<]*)</msg>', output)
    assert logged == [m.group(0) for m in progress]


def test_a_bulk_create_reports_records_done_of_total(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from Connectors.core import progress
    from Connectors.vendors.robostack.client import RobostackClient

    monkeypatch.setattr(progress, "EVERY", 0.0)  # a line before every chunk but the first, instead of every 10 s
    with SandboxProcess() as sandbox:
        env = sandbox.environment()
        client = RobostackClient(
            url=env["ROBOSTACK_URL"],
            app_uuid=env["ROBOSTACK_APP_UUID"],
            api_key=env["ROBOSTACK_API_KEY"],
            api_secret=env["ROBOSTACK_API_SECRET"],
        )
        with caplog.at_level(logging.INFO, logger="Connectors"):
            created = client.create_many("samples", [{"n": n} for n in range(30)], chunk_size=10)
    assert len(created) == 30
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Creating records")]
    assert [line.split(" done")[0] for line in lines] == [
        "Creating records in samples: 0 of 30",
        "Creating records in samples: 10 of 30",
        "Creating records in samples: 20 of 30",
    ]


def test_quick_operations_write_no_progress_line(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from Connectors.vendors.controlroom.client import ControlRoomClient
    from Connectors.vendors.robostack.client import RobostackClient

    with SandboxProcess(extra_args=["--run-seconds", "2"]) as sandbox:
        env = sandbox.environment()
        robostack = RobostackClient(
            url=env["ROBOSTACK_URL"],
            app_uuid=env["ROBOSTACK_APP_UUID"],
            api_key=env["ROBOSTACK_API_KEY"],
            api_secret=env["ROBOSTACK_API_SECRET"],
        )
        controlroom = ControlRoomClient(
            url=env["CONTROLROOM_URL"],
            workspace_id=env["CONTROLROOM_WORKSPACE_ID"],
            api_key=env["CONTROLROOM_API_KEY"],
        )
        with caplog.at_level(logging.INFO, logger="Connectors"):
            assert len(robostack.create_many("samples", [{"n": n} for n in range(30)], chunk_size=10)) == 30
            run = controlroom.trigger_run("Invoice Processing", {"invoice": "INV-quick"})
            assert controlroom.wait_for_run(run["id"], timeout=60, poll_interval=0.5)["state"] == "completed"
    messages = [record.getMessage() for record in caplog.records]
    assert not [m for m in messages if m.startswith(("Creating records", "Waiting for", "Pausing"))], messages
