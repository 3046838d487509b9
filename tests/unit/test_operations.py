"""The generated operation tables: fresh, complete, and what a row does with parameters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from Connectors.core.errors import ValidationError
from Connectors.vendors.cobot.operations import OPERATIONS as COBOT
from Connectors.vendors.controlroom.operations import OPERATIONS as CONTROLROOM
from connectors_sandbox.cobot.operations import OPERATIONS as SANDBOX_COBOT
from connectors_sandbox.controlroom.operations import OPERATIONS as SANDBOX_CONTROLROOM

ROOT = Path(__file__).resolve().parents[2]


def test_the_tables_are_fresh() -> None:
    result = subprocess.run([sys.executable, "tools/make_operations.py", "--check"], cwd=ROOT, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


def test_the_library_and_the_sandbox_read_the_same_rows() -> None:
    for library, sandbox in ((COBOT, SANDBOX_COBOT), (CONTROLROOM, SANDBOX_CONTROLROOM)):
        assert [(o.id, o.method, o.path, o.query, o.scope) for o in library.values()] == [
            (o.id, o.method, o.path, o.query, o.scope) for o in sandbox.values()
        ]
    generated = ROOT / "src" / "Connectors" / "vendors" / "cobot" / "operations.json"
    assert generated.read_bytes() == (ROOT / "src" / "connectors_sandbox" / "cobot" / "operations.json").read_bytes()


def test_every_operation_of_the_specs_is_a_row() -> None:
    assert len(COBOT) == 134
    assert CONTROLROOM["startProcessRun"].scope == "Processes.trigger_processes"
    assert CONTROLROOM.scope("getWorkspace") == ""
    assert COBOT["create-check-in"].scope == "write_check_ins"


def test_a_row_builds_the_path_and_query_from_spec_names() -> None:
    path, query = CONTROLROOM["listProcessRuns"].split({"workspace_id": "w/1", "limit": 5})
    assert path == "/workspaces/w%2F1/process-runs"
    assert query == {"limit": 5}


def test_the_path_template_wins_over_a_misdeclared_parameter() -> None:
    # Cobot's spec declares invoice_id for a path that says {id} (tests/spec/README.md).
    assert COBOT["attach-invoice-pdf"].path_params == ("id",)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({}, "missing workspace_id, process_run_id"),
        ({"workspace_id": "w", "process_run_id": "r", "colour": 1}, "unknown colour"),
        ({"workspace_id": "..", "process_run_id": "r"}, "dot segment"),
    ],
)
def test_missing_unknown_and_hostile_parameters_fail_before_sending(parameters: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CONTROLROOM["listStepRuns"].split(parameters)


def test_an_unknown_operation_says_how_many_there_are() -> None:
    with pytest.raises(ValidationError, match="134 operations"):
        COBOT["get-unicorn"]
