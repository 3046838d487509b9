"""Control Room pieces without a server: the run simulation, URL settings, state mapping, waiting."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from Connectors.core.errors import (
    ConfigurationError,
    PermissionDenied,
    TransportError,
    UncertainOutcome,
    ValidationError,
)
from Connectors.core.webhooks import SignatureError, sign_body
from Connectors.vendors.controlroom.client import ControlRoomClient, callback_of
from Connectors.vendors.controlroom.generations import legacy_run_state
from Connectors.vendors.controlroom.model import (
    ProcessRunFailed,
    ProcessRunTimeout,
    RunTriggerUncertain,
)
from Connectors.vendors.controlroom.profile import CONTROLROOM
from connectors_sandbox.controlroom.model import STOPPED, ControlRoomModel, Outcome


class ManualClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def iso(self, moment: float | None) -> str | None:
        return None if moment is None else f"t{moment}"


@pytest.fixture
def model() -> tuple[ControlRoomModel, ManualClock]:
    clock = ManualClock()
    sim = ControlRoomModel(clock, lambda: 10.0)  # type: ignore[arg-type]
    sim.add_workspace("ws", "W")
    sim.add_process("ws", "P", ["one", "two"], "pid")
    return sim, clock


def test_a_run_moves_through_its_states_in_sandbox_time(model: tuple[ControlRoomModel, ManualClock]) -> None:
    sim, _clock = model
    run = sim.trigger(sim.processes["pid"], [{"a": 1}])
    item = sim.items[run.item_ids[0]]
    assert sim.run_state(run, 0.1) == "new" and item.at(0.1).state == "pending"
    assert sim.run_state(run, 1.0) == "in_progress" and item.at(1.0).state == "in_progress"
    assert [s.state(6.0) for s in sim.visible_steps(run, 6.0)] == ["completed", "in_progress"]
    assert sim.run_state(run, 10.5) == "completed" and item.at(10.5).state == "done"


def test_fail_and_unresolved_outcomes(model: tuple[ControlRoomModel, ManualClock]) -> None:
    sim, _clock = model
    crash = sim.trigger(sim.processes["pid"], [{"sandbox": {"outcome": "fail", "step": 0, "seconds": 4}}])
    assert [s.outcome for s in crash.step_runs] == ["failed"]  # the second step never runs
    assert sim.run_state(crash, 100) == "unresolved"
    business = sim.trigger(sim.processes["pid"], [{"sandbox": {"outcome": "unresolved"}}, {}])
    assert [s.outcome for s in business.step_runs] == ["completed", "completed"]
    states = sorted(sim.items[i].at(100).state for i in business.item_ids)
    assert states == ["done", "failed"] and sim.run_state(business, 100) == "unresolved"
    with pytest.raises(ValueError, match=r"sandbox\.outcome"):
        Outcome.of({"sandbox": {"outcome": "maybe"}})


def test_stop_and_retry_rewrite_the_schedule(model: tuple[ControlRoomModel, ManualClock]) -> None:
    sim, clock = model
    run = sim.trigger(sim.processes["pid"], [{}])
    clock.t = 2.0
    assert sim.stop(run, set_done=False, terminate=False, reason="enough")
    # A graceful stop lets the running step finish its current work for up to 2 s.
    assert sim.run_state(run, 3.0) == "stopping"
    assert sim.run_state(run, 4.1) == "unresolved"
    assert [(s.outcome, s.error) for s in run.step_runs] == [("failed", {"code": STOPPED})]
    item = sim.items[run.item_ids[0]]
    assert item.at(4.1).exception == {"type": "orchestrator", "code": STOPPED, "message": "Process run stopped: enough"}
    clock.t = 5.0
    assert not sim.stop(run, False, False, "")  # not accepted: it has finished
    assert sim.retry([item]) == [item]
    assert sim.run_state(run, 5.2) == "in_progress"
    assert sim.run_state(run, 100) == "completed"
    assert sim.retry([item]) == []  # only failed work items are retried


def test_urls_and_legacy_host(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CONTROLROOM_URL",
        "CONTROLROOM_LEGACY_URL",
        "CONNECTORS_VAULT_SECRET",
        "CONTROLROOM_ORGANIZATION",
    ):
        monkeypatch.delenv(name, raising=False)
    cloud = ControlRoomClient("ws1", "k" * 20)
    assert cloud.transport.config.base_url == "https://cloud.robocorp.com/api/v1"
    assert cloud.legacy_base == "https://api.eu1.robocorp.com/process-v1"
    assert cloud.run_link("r1") == "https://cloud.robocorp.com/ws1/processes/runs/r1"
    local = ControlRoomClient("ws1", "k" * 20, url="http://127.0.0.1:8700/controlroom/api/v1", organization="acme")
    assert local.legacy_base == "http://127.0.0.1:8700/controlroom/process-v1"
    assert local.run_link("r1") == "http://127.0.0.1:8700/controlroom/acme/ws1/processes/runs/r1"
    monkeypatch.setenv("CONTROLROOM_LEGACY_URL", "https://api.us1.robocorp.com/process-v1")
    assert ControlRoomClient("ws1", "k" * 20).legacy_base == "https://api.us1.robocorp.com/process-v1"
    with pytest.raises(ConfigurationError, match="api=current or api=legacy"):
        ControlRoomClient("ws1", "k" * 20, api="v3")


def test_missing_credentials_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONTROLROOM_WORKSPACE_ID", "CONTROLROOM_API_KEY", "CONNECTORS_VAULT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="CONTROLROOM_API_KEY"):
        ControlRoomClient("ws1")


def test_vault_secret_supplies_the_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in (
        "CONTROLROOM_WORKSPACE_ID",
        "CONTROLROOM_API_KEY",
        "RC_VAULT_SECRET_MANAGER",
        "RPA_SECRET_MANAGER",
    ):
        monkeypatch.delenv(name, raising=False)
    vault = tmp_path / "vault.json"
    vault.write_text('{"controlroom": {"workspace_id": "ws-v", "api_key": "vault-key-123456"}}')
    monkeypatch.setenv("RPA_SECRET_FILE", str(vault))
    monkeypatch.delenv("RC_VAULT_SECRETS_FILE", raising=False)
    client = ControlRoomClient(vault_secret="controlroom")
    assert client.workspace_id == "ws-v"
    headers: dict[str, str] = {}
    client.auth.apply(headers)
    assert headers == {"Authorization": "RC-WSKEY vault-key-123456"}


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ({"state": "INI"}, "new"),
        ({"state": "IP"}, "in_progress"),
        ({"state": "COMPL", "result": "ok"}, "completed"),
        ({"state": "COMPL", "result": "err", "errorCode": "X"}, "unresolved"),
    ],
)
def test_legacy_run_states(raw: dict[str, Any], state: str) -> None:
    assert legacy_run_state(raw) == state


def test_403_names_the_missing_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    client = ControlRoomClient("ws1", "k" * 20, url="http://127.0.0.1:9/controlroom")

    def refuse(method: str, path: str, **kwargs: Any) -> Any:
        raise PermissionDenied(
            "Forbidden",
            vendor="Control Room",
            method=method,
            path=path,
            status=403,
            vendor_message="Forbidden",
        )

    monkeypatch.setattr(client.transport, "request", refuse)
    with pytest.raises(PermissionDenied, match=r"probably lacks the 'Processes\.write_work_items' permission"):
        client.retry_work_items(["w1"])
    with pytest.raises(PermissionDenied, match=r"'Processes\.read_run_outputs'"):
        client.list_artifacts("r1", "s1")
    with pytest.raises(PermissionDenied, match=r"'Processes\.trigger_processes'"):
        client.stop_run("r1")


class FakeRuns(ControlRoomClient):
    """get_run answers from a script of states; time.sleep is recorded instead of slept."""

    def __init__(self, states: list[str]) -> None:
        super().__init__("ws1", "k" * 20, url="http://127.0.0.1:9/controlroom")
        self.states = states
        self.calls = 0

    def get_run(self, run_id: str, process: str | None = None) -> dict[str, Any]:
        state = self.states[min(self.calls, len(self.states) - 1)]
        self.calls += 1
        return {"id": run_id, "state": state, "process": {"id": "p", "name": "P"}}

    def list_step_runs(self, run_id: str, process: str | None = None) -> list[dict[str, Any]]:
        return [
            {"id": "s", "state": "failed", "step": {"id": "p1", "name": "Post"}, "error": {"code": "ROBOT_FAILURE"}}
        ]

    def list_work_items(self, *args: Any, **kwargs: Any) -> Any:
        return iter([{"id": "w", "state": "failed", "exception": {"type": "application", "message": "boom"}}])


def test_wait_backs_off_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr("Connectors.vendors.controlroom.client.time.sleep", sleeps.append)
    client = FakeRuns(["in_progress"] * 9 + ["completed"])
    assert client.wait_for_run("r", timeout=1000)["state"] == "completed"
    assert sleeps == [2.0, 3.0, 4.5, 6.75, 10.0, 10.0, 10.0, 10.0, 10.0]
    assert client.last_wait["status_calls"] == 10


def test_wait_fails_on_unresolved_with_the_failing_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("Connectors.vendors.controlroom.client.time.sleep", lambda _s: None)
    with pytest.raises(ProcessRunFailed, match=r"step 'Post' failed \(ROBOT_FAILURE: boom\); see http"):
        FakeRuns(["new", "unresolved"]).wait_for_run("r")
    assert FakeRuns(["unresolved"]).wait_for_run("r", fail_on_unresolved=False)["state"] == "unresolved"


def test_wait_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProcessRunTimeout, match=r"still in_progress after 0\.05 s"):
        FakeRuns(["in_progress"]).wait_for_run("r", timeout=0.05, poll_interval=0.01, max_interval=0.02)
    with pytest.raises(ConfigurationError):
        FakeRuns(["new"]).wait_for_run("r", poll_interval=0)


def test_webhook_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTROLROOM_WEBHOOK_SECRET", "whsec_unit_test")
    body = '{"id":"e1","event":"process_run.completed","payload":{"x":1}}'
    assert ControlRoomClient.verify_webhook(body, sign_body("whsec_unit_test", body))["payload"] == {"x": 1}
    with pytest.raises(SignatureError):
        ControlRoomClient.verify_webhook(body, sign_body("other", body))
    with pytest.raises(SignatureError, match="no signature"):
        ControlRoomClient.verify_webhook(body, None)


def test_error_body_is_read_as_the_spec_has_it() -> None:
    # The profile's error format reads the spec's genericErrorResponse.
    body = {"error": {"code": "bad_request", "message": "No payloads"}}
    assert CONTROLROOM.error_format.message_of(body) == "[bad_request] No payloads"


def test_an_unanswered_trigger_is_uncertain_and_says_how_to_check(monkeypatch: pytest.MonkeyPatch) -> None:
    client = ControlRoomClient("ws1", "k" * 20, url="http://127.0.0.1:9/controlroom")
    client.process_names["11111111-1111-1111-1111-111111111111"] = "Invoices"

    def lost(method: str, path: str, **kwargs: Any) -> Any:
        raise UncertainOutcome("the connection was dropped", vendor="Control Room", method=method, path=path)

    monkeypatch.setattr(client.transport, "request", lost)
    with pytest.raises(RunTriggerUncertain) as uncertain:
        client.trigger_run("11111111-1111-1111-1111-111111111111", {"a": 1})
    error = uncertain.value
    assert isinstance(error, UncertainOutcome) and error.process_id.startswith("1111") and error.since.endswith("Z")
    assert "may or may not have started" in str(error)
    assert f"List Process Runs with process=Invoices since={error.since}" in str(error)


def test_a_failed_read_back_returns_the_started_run(monkeypatch: pytest.MonkeyPatch) -> None:
    client = ControlRoomClient("ws1", "k" * 20, url="http://127.0.0.1:9/controlroom")
    pid = "11111111-1111-1111-1111-111111111111"
    monkeypatch.setattr(client.backend, "start", lambda process_id, start: ["run-7"])

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise TransportError("could not connect", vendor="Control Room")

    monkeypatch.setattr(client.backend, "get_run", unreachable)
    run = client.trigger_run(pid)
    assert run == {"id": "run-7", "state": "new", "process": {"id": pid, "name": ""}}


def test_callback_is_checked_before_sending() -> None:
    assert callback_of(None, None) is None
    assert (callback_of("https://x.test/cb", "s3cret-value") or {})["callback_events"] == ["completed", "unresolved"]
    with pytest.raises(ConfigurationError, match="needs a secret"):
        callback_of("https://x.test/cb", None)
    with pytest.raises(ConfigurationError, match="Unknown callback event 'finished'"):
        callback_of("https://x.test/cb", "s3cret-value", ["finished"])


@pytest.mark.parametrize("bad", ["..", "a/../../admin", "r1?x=1", "line\nbreak"])
def test_ids_are_one_path_segment_or_refused(bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = ControlRoomClient("ws1", "k" * 20, url="http://127.0.0.1:9/controlroom")
    sent: list[str] = []

    class Answer:
        content = b"{}"
        status_code = 200

        @staticmethod
        def json() -> dict[str, Any]:
            return {}

    def record(method: str, path: str, **kwargs: Any) -> Answer:
        sent.append(path)
        return Answer()

    monkeypatch.setattr(client.transport, "request", record)
    try:
        client.get_run(bad)
    except ValidationError as error:
        assert "run_id" in str(error) and not sent
    else:
        assert sent == [f"/workspaces/ws1/process-runs/{quote(bad, safe='')}"]
