"""Through a real server (uvicorn), a ``reset`` or ``lost`` fault aborts the connection, and each is counted."""

from __future__ import annotations

import pytest
import requests

from connectors_sandbox.server import SandboxProcess


@pytest.mark.parametrize("fault", ["reset", "lost"])
def test_each_aborted_connection_is_counted(sandbox: SandboxProcess, fault: str) -> None:
    sandbox.configure(faults=f"{fault}=1.0", seed=3)
    env = sandbox.environment()
    for _ in range(3):
        with pytest.raises(requests.ConnectionError):
            requests.get(
                env["COBOT_URL"] + "/api/user",
                headers={"Authorization": f"Bearer {env['COBOT_ACCESS_TOKEN']}"},
                timeout=10,
            )
    injected = sandbox.stats()["faults_injected"]
    sandbox.configure(faults="")
    assert injected == {"5xx": 0, "reset": 0, "lost": 0, "slow": 0, fault: 3}
