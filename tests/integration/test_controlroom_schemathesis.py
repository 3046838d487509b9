"""schemathesis over the sandbox's ``/api/v1``: generated requests from Robocorp's spec, answers checked against it.

The demo workspace, process id and API key are fixed, so those parameters take them (random ids would only
ever meet a 403 or 404); everything else is generated from the spec, valid and invalid (schemathesis'
positive and negative modes): no 5xx, documented content types, answers that match the spec, and every
request the spec rejects refused. Examples are bounded to keep the run near a minute.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors_sandbox.controlroom import access
from connectors_sandbox.controlroom.emulator import demo_process_id
from connectors_sandbox.server import SandboxProcess
from spec.controlroom import readable_spec

# What the sandbox emulates; assistants, task packages and worker groups are left out on purpose.
LEFT_OUT = ("/assistant", "/task-packages", "/worker-groups", "/workers/")


def _served() -> dict[str, Any]:
    spec = readable_spec("http://sandbox.invalid/controlroom/api/v1")
    spec["paths"] = {p: v for p, v in spec["paths"].items() if not any(x in p for x in LEFT_OUT)}
    return spec


schema = schemathesis.openapi.from_dict(_served())
# The fixed demo workspace, process and key; everything else is generated.
schema.config.update(
    headers={"Authorization": f"RC-WSKEY {access.API_KEY}"},
    parameters={
        "workspace_id": access.WORKSPACE_ID,
        "path.process_id": demo_process_id("Invoice Processing"),
        "token": access.API_KEY,
    },
)


@pytest.fixture(scope="module")
def api(sandbox_process: SandboxProcess) -> Iterator[str]:
    sandbox_process.configure(reset=True)
    yield sandbox_process.vendor_url("controlroom") + "/api/v1"
    sandbox_process.configure(reset=True)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_sandbox_answers_conform_to_the_spec(case: Any, api: str) -> None:
    case.call_and_validate(
        base_url=api,
        checks=[
            checks.not_a_server_error,
            checks.content_type_conformance,
            checks.response_schema_conformance,
            checks.negative_data_rejection,
        ],
    )
