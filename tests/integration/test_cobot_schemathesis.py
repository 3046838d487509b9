"""schemathesis over the sandbox's Cobot API 2: generated requests from Cobot's spec, answers checked against it.

Only the operations the sandbox serves (those the keywords use) are fuzzed. The demo space id and the admin
token are fixed (random space ids would only ever meet a 404); everything else is generated from the spec,
valid and invalid: no 5xx, documented content types, answers that match the spec. Examples are bounded to
keep the run near a minute.
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

from connectors_sandbox.cobot import data
from connectors_sandbox.cobot.api import DEMO_ADMIN_TOKEN
from connectors_sandbox.cobot.api2 import Api2
from connectors_sandbox.server import SandboxProcess
from spec.cobot import readable_spec

SERVED = set(Api2.handlers(Api2.__new__(Api2)))  # type: ignore[arg-type]


def _served() -> dict[str, Any]:
    spec = readable_spec("http://sandbox.invalid/cobot/api2")
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        kept = {
            method: operation
            for method, operation in item.items()
            if isinstance(operation, dict) and operation.get("operationId") in SERVED
        }
        if kept:
            paths[path] = {**{k: v for k, v in item.items() if k == "parameters"}, **kept}
    spec["paths"] = paths
    return spec


schema = schemathesis.openapi.from_dict(_served())
schema.config.update(
    headers={"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}", "Accept": "application/vnd.api+json"},
    parameters={"spaceId": data.cobot_id("space", data.DEMO_SPACE)},
)


@pytest.fixture(scope="module")
def api(sandbox_process: SandboxProcess) -> Iterator[str]:
    sandbox_process.configure(reset=True)
    sandbox_process.admin("POST", "/_sandbox/cobot/limits", {"scale": 1000})
    yield sandbox_process.vendor_url("cobot") + "/api2"
    sandbox_process.admin("POST", "/_sandbox/cobot/limits", {"scale": 1})
    sandbox_process.configure(reset=True)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
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
