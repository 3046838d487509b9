"""The sandbox's shared request pipeline and access log, driven in-process (no network): every vendor's
errors in its own format, unexpected failures answered with a JSON 500 and logged in one line that
names the exception but never the body or the headers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from connectors_sandbox.app import create_app
from connectors_sandbox.options import SandboxOptions

SECRET_BODY = "body-secret-4711"
SECRET_HEADER = "header-secret-0815"


@pytest.fixture
def app() -> Any:
    return create_app(SandboxOptions(demo=True, public_url="http://testserver"))


class Client:
    """Requests straight into the ASGI application (httpx's ASGI transport), one event loop per call."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.request(method, path, **kwargs)

        return asyncio.run(send())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


@pytest.fixture
def client(app: Any) -> Client:
    return Client(app)


def _robostack_headers(app: Any) -> dict[str, str]:
    env = app.state.vendors["robostack"].info()["env"]
    return {"x-api-key": env["ROBOSTACK_API_KEY"], "x-api-secret": env["ROBOSTACK_API_SECRET"]}


def _error_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "connectors.sandbox" and r.levelno >= logging.ERROR]


def test_a_failing_handler_is_a_json_500_and_one_log_line(
    app: Any, client: Client, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    robostack = app.state.vendors["robostack"]

    def broken(resource: Any, body: Any) -> Any:
        raise KeyError(f"something about {body}")

    monkeypatch.setattr(robostack, "_find", broken)
    caplog.set_level(logging.INFO, logger="connectors.sandbox")
    uuid = robostack.info()["env"]["ROBOSTACK_APP_UUID"]
    answer = client.post(
        f"/robostack/external/api/{uuid}/orders/",
        json={"selection": {"note": SECRET_BODY}},
        headers={**_robostack_headers(app), "X-Extra": SECRET_HEADER},
    )
    assert answer.status_code == 500
    assert answer.json() == {"message": "Internal server error"}
    lines = _error_lines(caplog)
    assert lines == [f"POST /robostack/external/api/{uuid}/orders/ -> 500 (KeyError)"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET_BODY not in logged and SECRET_HEADER not in logged
    assert robostack.info()["env"]["ROBOSTACK_API_SECRET"] not in logged


def test_a_failure_outside_the_pipeline_is_caught_by_the_access_log(
    app: Any, client: Client, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = app.state.ctx

    def broken() -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(ctx.stats, "as_dict", broken)
    caplog.set_level(logging.INFO, logger="connectors.sandbox")
    answer = client.get("/_sandbox/stats")
    assert answer.status_code == 500 and answer.json() == {"message": "Internal server error"}
    assert _error_lines(caplog) == ["GET /_sandbox/stats -> 500 (RuntimeError)"]


def test_a_cobot_failure_is_written_in_cobot_format(
    app: Any, client: Client, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    cobot = app.state.vendors["cobot"]

    def broken() -> Any:
        raise ValueError("boom")

    # The routes hold the bound handler: break what it calls instead.
    monkeypatch.setattr(cobot.members, "_spaces", broken)
    caplog.set_level(logging.INFO, logger="connectors.sandbox")
    token = cobot.info()["env"]["COBOT_ACCESS_TOKEN"]
    answer = client.get("/cobot/api/user", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 500 and answer.json() == {"error": "Internal server error"}
    assert _error_lines(caplog) == ["GET /cobot/api/user -> 500 (ValueError)"]
    assert token not in "\n".join(r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/nowhere", 404, {"message": "Unknown path /nowhere"}),
        ("GET", "/robaws/nowhere", 404, {"message": "Unknown path /robaws/nowhere"}),
        ("DELETE", "/robaws/oauth2/tokens", 405, {"message": "DELETE is not allowed on /robaws/oauth2/tokens"}),
        ("GET", "/cobot/nowhere", 404, {"error": "Unknown path /cobot/nowhere"}),
        ("PATCH", "/cobot/api/user", 405, {"error": "PATCH is not allowed on /cobot/api/user"}),
        (
            "GET",
            "/cobot/spaces/demo-coworking/api/nowhere",
            404,
            {"error": "Unknown path /cobot/spaces/demo-coworking/api/nowhere"},
        ),
        ("GET", "/robostack/nowhere", 404, {"message": "Unknown path /robostack/nowhere"}),
        (
            "GET",
            "/robostack/external/api/app/orders/",
            405,
            {"message": "GET is not allowed on /robostack/external/api/app/orders/"},
        ),
        ("PUT", "/_sandbox/stats", 405, {"message": "PUT is not allowed on /_sandbox/stats"}),
    ],
)
def test_unknown_paths_and_methods_are_json_in_the_vendors_format(
    client: Client, method: str, path: str, status: int, body: dict[str, str]
) -> None:
    headers = {"Content-Type": "application/json"}
    answer = client.request(method, path, headers=headers, content=b"{}" if method != "GET" else None)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == body
    if status == 405:
        assert answer.headers["allow"]


def test_injected_faults_use_the_vendors_format(app: Any, client: Client) -> None:
    client.post("/_sandbox/config", json={"faults": "5xx=1.0", "seed": 1})
    answer = client.get("/cobot/api/user")
    assert answer.status_code in (502, 503, 504)
    assert answer.json() == {"error": f"injected fault: HTTP {answer.status_code}"}
    robaws = client.get("/robaws/api/v2/clients")
    assert robaws.json() == {"message": f"injected fault: HTTP {robaws.status_code}"}


def test_a_token_in_a_path_is_masked_in_the_access_log(
    app: Any, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    token = app.state.vendors["cobot"].info()["env"]["COBOT_ACCESS_TOKEN"]
    caplog.set_level(logging.INFO, logger="connectors.sandbox")
    answer = client.get(f"/cobot/api/access_tokens/{token}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    client.post(f"/cobot/api/access_tokens/{token}/space", json={}, headers={"Authorization": f"Bearer {token}"})
    logged = [r.getMessage() for r in caplog.records if r.name == "connectors.sandbox"]
    assert "GET /cobot/api/access_tokens/*** -> 200" in logged
    assert "POST /cobot/api/access_tokens/***/space -> 422" in logged
    assert token not in "\n".join(logged)
