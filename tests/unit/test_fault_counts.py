"""Injected faults are counted when they took effect, not when drawn: in-process (httpx's ASGI transport) there
is no connection to abort, so a drawn ``reset`` or ``lost`` answers normally and counts nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from connectors_sandbox.app import create_app
from connectors_sandbox.options import SandboxOptions


def _requests(app: Any, *calls: tuple[str, str, dict[str, Any]]) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return [await client.request(method, path, **kwargs) for method, path, kwargs in calls]

    return asyncio.run(go())


def _injected(app: Any) -> dict[str, int]:
    return dict(_requests(app, ("GET", "/_sandbox/stats", {}))[0].json()["faults_injected"])


def test_a_fault_that_cannot_take_effect_is_not_counted() -> None:
    app = create_app(SandboxOptions(demo=True, public_url="http://testserver"))
    env = app.state.vendors["cobot"].info()["env"]
    headers = {"Authorization": f"Bearer {env['COBOT_ACCESS_TOKEN']}"}
    for faults in ("reset=1.0", "lost=1.0"):
        _requests(app, ("POST", "/_sandbox/config", {"json": {"faults": faults, "seed": 1}}))
        answers = _requests(app, *[("GET", "/cobot/api/user", {"headers": headers})] * 3)
        assert [answer.status_code for answer in answers] == [200] * 3  # answered: nothing was aborted
        assert _injected(app) == {"5xx": 0, "reset": 0, "lost": 0, "slow": 0}, faults


def test_applied_faults_are_counted_once_each() -> None:
    app = create_app(SandboxOptions(demo=True, public_url="http://testserver"))
    _requests(app, ("POST", "/_sandbox/config", {"json": {"faults": "5xx=1.0", "seed": 1}}))
    answers = _requests(app, *[("GET", "/cobot/api/user", {})] * 4)
    assert all(answer.status_code in (502, 503, 504) for answer in answers)
    assert _injected(app)["5xx"] == 4
