"""Library import arguments are the connect keyword's defaults, for every vendor: what is given at
``Library    Connectors.X    …`` reaches the connection, the keyword's own arguments win over it, and
``api=legacy`` at import makes Control Room speak the legacy ``/process-v1`` API."""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests

from Connectors.Cobot import Cobot
from Connectors.ControlRoom import ControlRoom
from Connectors.library import ConnectorLibrary
from Connectors.Robaws import Robaws
from Connectors.Robostack import Robostack
from connectors_sandbox.server import SandboxProcess


def recorded_paths(library: ConnectorLibrary[Any]) -> list[str]:
    paths: list[str] = []

    def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        paths.append(requests.utils.urlparse(response.url).path)

    library.client.transport.session.hooks["response"].append(record)
    return paths


def environment_without(prefix: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The vendor's sandbox settings, removed from the environment so that only imports can supply them."""
    values = {name: value for name, value in os.environ.items() if name.startswith(prefix)}
    for name in values:
        monkeypatch.delenv(name)
    return values


def test_robaws_import_arguments_reach_the_connection(sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    env = environment_without("ROBAWS_", monkeypatch)
    library = Robaws(url=env["ROBAWS_URL"], username=env["ROBAWS_USERNAME"], password=env["ROBAWS_PASSWORD"])
    library.run_keyword("connect_to_robaws", [], {"rate_limit": "7/s"})
    assert library.client.url == env["ROBAWS_URL"] and library.client.throttle.status.rate == "7/s"
    paths = recorded_paths(library)
    assert library.run_keyword("list_robaws_clients", [], {"limit": 1})
    assert paths == ["/robaws/api/v2/clients"]


def test_cobot_import_arguments_reach_the_connection(sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    env = environment_without("COBOT_", monkeypatch)
    library = Cobot(
        url=env["COBOT_URL"],
        api_url=env["COBOT_API_URL"],
        access_token=env["COBOT_ACCESS_TOKEN"],
        space=env["COBOT_SPACE"],
    )
    assert library.run_keyword("get_cobot_rate_limit_status", [], {})["requests"] == 0  # connects by itself
    assert library.client.default_space == env["COBOT_SPACE"]
    assert library.run_keyword("get_cobot_user", [], {})["id"]


def test_robostack_import_and_positional_keyword_arguments(
    sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment_without("ROBOSTACK_", monkeypatch)
    library = Robostack(url=env["ROBOSTACK_URL"], chunk_size=7)
    library.run_keyword(
        "connect_to_robostack", [env["ROBOSTACK_APP_UUID"], env["ROBOSTACK_API_KEY"], env["ROBOSTACK_API_SECRET"]], {}
    )
    assert library.client.chunk_size == 7 and library.client.app_uuid == env["ROBOSTACK_APP_UUID"]
    assert isinstance(library.run_keyword("find_robostack_records", ["orders"], {}), list)


def test_control_room_api_legacy_at_import_speaks_the_legacy_api(
    sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment_without("CONTROLROOM_", monkeypatch)
    library = ControlRoom(
        workspace_id=env["CONTROLROOM_WORKSPACE_ID"],
        api_key=env["CONTROLROOM_API_KEY"],
        url=env["CONTROLROOM_URL"],
        api="legacy",
    )
    library.run_keyword("connect_to_control_room", [], {})
    assert library.client.api == "legacy"
    paths = recorded_paths(library)
    assert library.run_keyword("list_processes", [], {})
    assert paths and all("/process-v1/" in path for path in paths)
    # The keyword's own argument wins over the import's.
    library.run_keyword("connect_to_control_room", [], {"api": "current"})
    paths = recorded_paths(library)
    library.run_keyword("list_processes", [], {})
    assert paths and all("/api/v1/" in path for path in paths)
