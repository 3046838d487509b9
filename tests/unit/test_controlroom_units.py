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


PID = "22222222-2222-2222-2222-222222222222"


class Recorded:
    """A transport stand-in: each request is recorded and answered from ``answers`` (or raises them)."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, str, Any]] = []

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        self.sent.append((method, path, kwargs.get("json")))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        reply = type("Answer", (), {"status_code": 200, "content": b"{}", "json": staticmethod(lambda: answer)})
        return reply()


@pytest.fixture
def clean_journal() -> Any:
    from Connectors.core.repeats import journal

    journal.clear()
    yield
    journal.clear()


def test_a_run_without_a_payload_is_started_with_no_body(monkeypatch: pytest.MonkeyPatch, clean_journal: Any) -> None:
    client = ControlRoomClient("ws1", "k" * 20, url="http://127.0.0.1:9/controlroom")
    sent = Recorded({"started": True, "id": "run-1"}, {"id": "run-1", "state": "new", "process": {"id": PID}})
    monkeypatch.setattr(client.transport, "request", sent)
    assert client.trigger_run(PID)["id"] == "run-1"
    assert sent.sent[0] == ("POST", f"/workspaces/ws1/processes/{PID}/process-runs", None)


def test_one_run_with_many_payloads_is_one_request(monkeypatch: pytest.MonkeyPatch, clean_journal: Any) -> None:
    client = ControlRoomClient("ws1", "k" * 20, url="http://127.0.0.1:9/controlroom")
    sent = Recorded({"started": True, "id": "run-1"}, {"id": "run-1", "state": "new", "process": {"id": PID}})
    monkeypatch.setattr(client.transport, "request", sent)
    callback = {"url": "https://example.com/cb", "secret": "s" * 16, "callback_events": ["completed"]}
    client.trigger_run_with_payloads(PID, [{"n": 1}, {"n": 2}], callback)
    body = {"type": "with_payloads", "payloads": [{"n": 1}, {"n": 2}], "callback": callback}
    assert sent.sent[0] == ("POST", f"/workspaces/ws1/processes/{PID}/process-runs", body)
    with pytest.raises(ConfigurationError, match="current API only"):
        ControlRoomClient(
            "ws1", "k" * 20, url="http://127.0.0.1:9/controlroom", api="legacy"
        ).trigger_run_with_payloads(PID, [{"n": 1}])


def test_an_uncertain_start_without_payload_is_not_started_again(
    monkeypatch: pytest.MonkeyPatch, clean_journal: Any
) -> None:
    """No payload to recognise the run by: the repeat fails naming the process and the moment, sends nothing."""
    client = ControlRoomClient("ws1", "k" * 20, url="http://127.0.0.1:9/controlroom")
    client.process_names[PID] = "Reports"
    sent = Recorded(UncertainOutcome("the connection was dropped", vendor="Control Room"))
    monkeypatch.setattr(client.transport, "request", sent)
    with pytest.raises(RunTriggerUncertain) as first:
        client.trigger_run(PID)
    with pytest.raises(RunTriggerUncertain) as again:
        client.trigger_run(PID)
    assert len(sent.sent) == 1, "a body-less start was sent again after an uncertain one"
    message = str(again.value)
    assert "process Reports" in message and again.value.since == first.value.since and first.value.since in message
    assert "\n" not in message and "not started again" in message


def test_a_repeated_trigger_with_payloads_finds_the_run_its_lost_attempt_started(
    monkeypatch: pytest.MonkeyPatch, clean_journal: Any
) -> None:
    client = ControlRoomClient("ws1", "k" * 20, url="http://127.0.0.1:9/controlroom")
    monkeypatch.setattr(client.transport, "request", Recorded(UncertainOutcome("dropped", vendor="Control Room")))
    with pytest.raises(RunTriggerUncertain):
        client.trigger_run_with_payloads(PID, [{"n": 1}, {"n": 2}])
    now = "2999-01-01T00:00:00Z"
    runs = {"data": [{"id": "run-9", "created_at": now, "process": {"id": PID}}], "has_more": False, "next": None}
    items = {"data": [{"id": "i1"}, {"id": "i2"}], "has_more": False, "next": None}
    answers = Recorded(runs, items, {"id": "i1", "payload": {"n": 2}}, {"id": "i2", "payload": {"n": 1}})
    answers.answers.append({"id": "run-9", "state": "in_progress", "process": {"id": PID}})
    monkeypatch.setattr(client.transport, "request", answers)
    assert client.trigger_run_with_payloads(PID, [{"n": 1}, {"n": 2}])["id"] == "run-9"
    assert not [s for s in answers.sent if s[0] == "POST"], "started a second run"


def _runs(minutes: list[int]) -> list[dict[str, Any]]:
    return [{"id": f"r{m}", "created_at": f"2025-03-01T10:{m:02d}:00Z", "process": {"id": PID}} for m in minutes]


@pytest.mark.parametrize(
    ("listed", "read", "kept"),
    [
        ([9, 8, 7, 6, 5, 4, 3, 2, 1], 5, ["r9", "r8", "r7", "r6"]),  # newest-first: stops at the first older run
        ([1, 2, 3, 4, 5, 6, 7, 8, 9], 9, ["r6", "r7", "r8", "r9"]),  # another order: read to the end
        ([5, 9, 8, 7, 6, 4, 1], 7, ["r9", "r8", "r7", "r6"]),  # an older run first proves nothing
    ],
)
def test_runs_since_stop_paging_only_where_the_answers_are_newest_first(
    listed: list[int], read: int, kept: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = ControlRoomClient("ws1", "k" * 20, url="http://127.0.0.1:9/controlroom")
    consumed: list[str] = []

    def listing(*_args: Any) -> Any:
        for run in _runs(listed):
            consumed.append(run["id"])
            yield run

    monkeypatch.setattr(client.backend, "list_runs", listing)
    assert [r["id"] for r in client.list_runs(since="2025-03-01T10:06:00Z")] == kept
    assert len(consumed) == read


def test_a_payload_over_the_limit_fails_in_one_line_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    client = ControlRoomClient("ws1", "k" * 20, url="http://127.0.0.1:9/controlroom")
    sent = Recorded()
    monkeypatch.setattr(client.transport, "request", sent)
    big = {"text": "é" * 50_000}  # 100,000 bytes of UTF-8 in 50,000 characters
    for call in (
        lambda: client.trigger_run(PID, big),
        lambda: client.trigger_runs(PID, [{"a": 1}, big]),
        lambda: client.trigger_run_with_payloads(PID, [big]),
        lambda: client.create_work_item(PID, big),
        lambda: client.update_work_item_payload("item-1", big),
    ):
        with pytest.raises(ValidationError) as refused:
            call()
        text = str(refused.value)
        assert "100,011 bytes" in text and "at most 100,000 bytes" in text and "file" in text and "\n" not in text
    assert not sent.sent
