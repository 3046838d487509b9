"""schemathesis over the sandbox's ``/api/v1``: generated requests from Robocorp's spec, answers checked against it.

The demo workspace, process ids and API key are fixed, so those parameters are narrowed to them (random
ids would only ever meet a 403 or 404); everything else is generated from the spec, valid and invalid
(schemathesis' positive and negative modes). Examples are bounded to keep the run near a minute.
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

from Connectors.sandbox.controlroom import access
from Connectors.sandbox.controlroom.emulator import DEMO_PROCESSES, demo_process_id
from Connectors.sandbox.server import SandboxProcess
from spec.controlroom import readable_spec

# What the sandbox emulates; assistants, task packages and worker groups are left out on purpose.
LEFT_OUT = ("/assistant", "/task-packages", "/worker-groups", "/workers/")


def _narrowed() -> dict[str, Any]:
    spec = readable_spec("http://sandbox.invalid/controlroom/api/v1")
    spec["paths"] = {p: v for p, v in spec["paths"].items() if not any(x in p for x in LEFT_OUT)}
    fixed = {
        "workspace_id": [access.WORKSPACE_ID],
        "process_id": [demo_process_id(name) for name, _ in DEMO_PROCESSES],
        "token": [access.API_KEY],
    }
    for item in spec["paths"].values():
        lists = [item.get("parameters", [])] + [
            op.get("parameters", []) for op in item.values() if isinstance(op, dict)
        ]
        for parameter in (p for parameters in lists for p in parameters):
            if parameter.get("name") in fixed:
                parameter["schema"] = {"type": "string", "enum": fixed[parameter["name"]]}
    return spec


schema = schemathesis.openapi.from_dict(_narrowed())


@pytest.fixture(scope="module")
def api(sandbox_process: SandboxProcess) -> Iterator[str]:
    sandbox_process.configure(reset=True)
    sandbox_process.admin("POST", "/_sandbox/controlroom/config", {"rate_limit": 10_000, "burst": 10_000})
    yield sandbox_process.vendor_url("controlroom") + "/api/v1"
    sandbox_process.admin("POST", "/_sandbox/controlroom/config", {"rate_limit": 50, "burst": 100})
    sandbox_process.configure(reset=True)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_sandbox_answers_conform_to_the_spec(case: Any, api: str) -> None:
    case.call_and_validate(
        base_url=api,
        headers={"Authorization": f"RC-WSKEY {access.API_KEY}"},
        checks=[checks.not_a_server_error, checks.content_type_conformance, checks.response_schema_conformance],
    )
