"""The Control Room simulation behind both API generations: processes, runs, step runs, work items.

Nothing here speaks HTTP. A run is scheduled when it is triggered: every step run gets a start and
an end in *sandbox time* and every work item a list of timed state changes, so any later request
reads the state "as of now" without a background scheduler. Stopping and retrying rewrite the
schedule from the moment they happen. Sandbox time runs ``time_scale`` times faster than the wall
clock, so a 60 s run can finish in 6 s for a test.

Run states (current API): ``new`` → ``in_progress`` → ``completed`` | ``unresolved``; a stop passes
through ``terminating``. A run is ``unresolved`` when any of its work items failed, as in Control
Room; it becomes ``completed`` once the failed items are retried successfully.
Work item states: ``new`` (created, not in a run), ``pending``, ``in_progress``, ``done``, ``failed``.
Step run states: ``in_progress``, ``completed``, ``failed``, ``terminated``.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# Work item exceptions as Control Room reports them.
ROBOT_FAILURE = "ROBOT_FAILURE"
STOPPED = "PROCESS_RUN_STOPPED"


def new_id() -> str:
    return str(uuid.uuid4())


class Clock:
    """Sandbox time: seconds since the sandbox started, advancing ``time_scale`` times the wall clock.

    The scale is read on every call, so a change through ``/_sandbox/config`` takes effect from the
    next request on without moving times that already passed.
    """

    def __init__(self, scale: Callable[[], float]) -> None:
        self._scale = scale
        self._lock = threading.Lock()
        self._real = time.monotonic()
        self._now = 0.0
        self._current_scale = max(scale(), 1e-6)
        self._epoch = time.time()

    def now(self) -> float:
        with self._lock:
            real = time.monotonic()
            self._now += (real - self._real) * self._current_scale
            self._real = real
            self._current_scale = max(self._scale(), 1e-6)
            return self._now

    def iso(self, moment: float | None) -> str | None:
        if moment is None:
            return None
        stamp = datetime.fromtimestamp(self._epoch + moment, timezone.utc)
        return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Process:
    id: str
    name: str
    workspace_id: str
    steps: list[str]
    created: float = 0.0
    # A real command per run (a robot.yaml task): argv, working directory and extra environment.
    command: list[str] | None = None
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Artifact:
    id: str
    name: str
    content: bytes


@dataclass
class StepRun:
    id: str
    run_id: str
    index: int
    name: str
    start: float
    end: float | None  # None while a real command is still running
    outcome: str  # state once ended: completed | failed | terminated
    error: dict[str, str] | None = None
    item_ids: list[str] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)

    def state(self, now: float) -> str:
        return "in_progress" if self.end is None or now < self.end else self.outcome


@dataclass
class ItemEvent:
    at: float
    state: str
    step_run_id: str | None = None
    exception: dict[str, str] | None = None


@dataclass
class WorkItem:
    id: str
    workspace_id: str
    process_id: str
    payload: Any
    created: float
    seq: int
    run_id: str | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    events: list[ItemEvent] = field(default_factory=list)

    def at(self, now: float) -> ItemEvent:
        current = self.events[0]
        last_step: str | None = None
        for event in self.events:
            if event.at > now:
                break
            current = event
            last_step = event.step_run_id or last_step
        return ItemEvent(current.at, current.state, current.step_run_id or last_step, current.exception)


@dataclass
class Run:
    id: str
    workspace_id: str
    process_id: str
    number: int
    created: float
    seq: int
    started_by: str = "api"
    item_ids: list[str] = field(default_factory=list)
    step_runs: list[StepRun] = field(default_factory=list)
    stop: dict[str, Any] | None = None

    def finish(self) -> float | None:
        if not self.step_runs or any(step.end is None for step in self.step_runs):
            return None
        return max(step.end for step in self.step_runs if step.end is not None)


@dataclass
class Outcome:
    """What the payload's ``sandbox`` field asks of one work item."""

    result: str = "ok"  # ok | fail | unresolved
    step: int | None = None  # the step index where it goes wrong (default: the last step)
    seconds: float | None = None
    message: str = ""
    retry: str = "ok"
    artifacts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, payload: Any) -> Outcome:
        spec = payload.get("sandbox") if isinstance(payload, dict) else None
        if not isinstance(spec, dict):
            return cls()
        result = str(spec.get("outcome", "ok")).lower()
        if result not in ("ok", "fail", "unresolved"):
            raise ValueError(f"sandbox.outcome must be ok, fail or unresolved, not {result!r}")
        seconds = spec.get("seconds")
        step = spec.get("step")
        artifacts = spec.get("artifacts") or {}
        return cls(
            result,
            int(step) if step is not None else None,
            float(seconds) if seconds is not None else None,
            str(spec.get("message", "")),
            str(spec.get("retry_outcome", "ok")).lower(),
            {str(k): str(v) for k, v in artifacts.items()} if isinstance(artifacts, dict) else {},
        )


class Conflict(Exception):
    """The request is valid but the object is not in a state that allows it (HTTP 409)."""


class ControlRoomModel:
    """All workspaces, processes, runs and work items of one sandbox."""

    QUEUE_SECONDS = 0.5  # sandbox seconds a triggered run waits for a worker

    def __init__(self, clock: Clock, default_seconds: Callable[[], float]) -> None:
        self.clock = clock
        self.default_seconds = default_seconds
        self.lock = threading.RLock()
        self.workspaces: dict[str, str] = {}  # id -> name
        self.processes: dict[str, Process] = {}
        self.runs: dict[str, Run] = {}
        self.items: dict[str, WorkItem] = {}
        self.step_runs: dict[str, StepRun] = {}
        self._seq = itertools.count(1)
        self._numbers: dict[str, itertools.count[int]] = {}

    # -- set-up --------------------------------------------------------------------------------
    def add_workspace(self, workspace_id: str, name: str) -> None:
        self.workspaces[workspace_id] = name

    def add_process(
        self, workspace_id: str, name: str, steps: list[str], process_id: str | None = None, **extra: Any
    ) -> Process:
        process = Process(process_id or new_id(), name, workspace_id, steps or ["Run robot"], self.clock.now(), **extra)
        self.processes[process.id] = process
        return process

    # -- look-ups ------------------------------------------------------------------------------
    def process(self, workspace_id: str, process_id: str) -> Process | None:
        process = self.processes.get(process_id)
        return process if process and process.workspace_id == workspace_id else None

    def run(self, workspace_id: str, run_id: str) -> Run | None:
        run = self.runs.get(run_id)
        return run if run and run.workspace_id == workspace_id else None

    def item(self, workspace_id: str, item_id: str) -> WorkItem | None:
        item = self.items.get(item_id)
        return item if item and item.workspace_id == workspace_id else None

    def step_run(self, workspace_id: str, step_run_id: str) -> StepRun | None:
        step = self.step_runs.get(step_run_id)
        if step is None:
            return None
        run = self.runs[step.run_id]
        return step if run.workspace_id == workspace_id and step.start <= self.clock.now() else None

    # -- states ---------------------------------------------------------------------------------
    def run_state(self, run: Run, now: float) -> str:
        if run.stop and run.stop["at"] <= now < run.stop["until"]:
            return "terminating"
        finish = run.finish()
        if finish is None or now < finish:
            return "in_progress" if any(step.start <= now for step in run.step_runs) else "new"
        states = [self.items[item_id].at(now).state for item_id in run.item_ids]
        return "completed" if all(state == "done" for state in states) else "unresolved"

    def visible_steps(self, run: Run, now: float) -> list[StepRun]:
        return [step for step in run.step_runs if step.start <= now]

    # -- work items -----------------------------------------------------------------------------
    def create_item(self, process: Process, payload: Any, state: str = "new", at: float | None = None) -> WorkItem:
        Outcome.of(payload)  # reject a malformed sandbox field before anything is stored
        now = self.clock.now() if at is None else at
        item = WorkItem(
            new_id(),
            process.workspace_id,
            process.id,
            payload if payload is not None else {},
            now,
            next(self._seq),
        )
        item.events.append(ItemEvent(now, state))
        self.items[item.id] = item
        return item

    # -- runs -----------------------------------------------------------------------------------
    def trigger(
        self,
        process: Process,
        payloads: list[Any] | None = None,
        item_ids: list[str] | None = None,
        started_by: str = "api",
        at: float | None = None,
    ) -> Run:
        """Start a run with new work items (one per payload) or with existing ones."""
        with self.lock:
            now = self.clock.now() if at is None else at
            items: list[WorkItem] = []
            for item_id in item_ids or []:
                item = self.item(process.workspace_id, item_id)
                if item is None or item.process_id != process.id:
                    raise KeyError(f"Work item {item_id} does not exist in process {process.name!r}")
                if item.run_id is not None:
                    raise Conflict(f"Work item {item_id} already belongs to process run {item.run_id}")
                items.append(item)
            for payload in payloads if payloads is not None else ([] if item_ids else [{}]):
                items.append(self.create_item(process, payload, at=now))
            counter = self._numbers.setdefault(process.id, itertools.count(1))
            run = Run(new_id(), process.workspace_id, process.id, next(counter), now, next(self._seq), started_by)
            for item in items:
                item.run_id = run.id
                item.events.append(ItemEvent(now, "pending"))
                run.item_ids.append(item.id)
            self.runs[run.id] = run
            start = now + self.QUEUE_SECONDS
            if process.command:
                self._start_command(process, run, items, start)
            else:
                self._schedule(process, run, items, 0, start, {item.id: Outcome.of(item.payload) for item in items})
            return run

    def _seconds(self, outcomes: dict[str, Outcome]) -> float:
        asked = [o.seconds for o in outcomes.values() if o.seconds is not None]
        return max(asked) if asked else float(self.default_seconds())

    def _schedule(
        self,
        process: Process,
        run: Run,
        items: list[WorkItem],
        first_step: int,
        start: float,
        outcomes: dict[str, Outcome],
        retry: bool = False,
    ) -> None:
        """Plan step runs from ``first_step`` on; every work item moves through them in order."""
        steps = process.steps
        share = self._seconds(outcomes) / len(steps)
        moment = start
        alive = list(items)
        last = len(steps) - 1
        for index in range(first_step, len(steps)):
            step = StepRun(
                new_id(),
                run.id,
                index,
                steps[index],
                moment,
                moment + share,
                "completed",
                item_ids=[item.id for item in alive],
            )
            end = moment + share
            for item in alive:
                item.events.append(ItemEvent(moment, "in_progress", step.id))
            wants = {item.id: (outcomes[item.id].retry if retry else outcomes[item.id].result) for item in alive}

            def fails_here(item: WorkItem, result: str, _index: int = index, _wants: dict = wants) -> bool:
                wanted = outcomes[item.id].step
                return _wants[item.id] == result and (last if wanted is None else min(wanted, last)) == _index

            crashing = [item for item in alive if fails_here(item, "fail")]
            if crashing:
                message = (
                    outcomes[crashing[0].id].message or f"Robot failed in step {steps[index]!r}: task raised an error"
                )
                step.outcome = "failed"
                step.error = {"code": ROBOT_FAILURE, "message": message}
                for item in alive:
                    item.events.append(
                        ItemEvent(
                            end,
                            "failed",
                            step.id,
                            {"type": "APPLICATION", "code": ROBOT_FAILURE, "message": message},
                        )
                    )
                alive = []
            else:
                for item in [item for item in alive if fails_here(item, "unresolved")]:
                    message = outcomes[item.id].message or "Business rule failed: the input data is not valid"
                    item.events.append(
                        ItemEvent(
                            end,
                            "failed",
                            step.id,
                            {"type": "BUSINESS", "code": "INVALID_DATA", "message": message},
                        )
                    )
                    alive.remove(item)
                if index == last:
                    for item in alive:
                        item.events.append(ItemEvent(end, "done", step.id))
            step.artifacts = self._artifacts(process, run, step, items, outcomes, index == last)
            run.step_runs.append(step)
            self.step_runs[step.id] = step
            if not alive:
                break
            moment = end

    def _artifacts(
        self,
        process: Process,
        run: Run,
        step: StepRun,
        items: list[WorkItem],
        outcomes: dict[str, Outcome],
        last: bool,
    ) -> list[Artifact]:
        status = "FAIL" if step.outcome != "completed" else "PASS"
        output = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<robot generator="Connectors sandbox">'
            f'<suite name="{process.name}"><test name="{step.name}"><status status="{status}"/></test>'
            f"</suite></robot>\n"
        )
        log = (
            f"<html><body><h1>{process.name} / {step.name}</h1><p>Run #{run.number}: {status}</p>"
            f"<p>{len(step.item_ids)} work item(s)</p></body></html>\n"
        )
        artifacts = [
            Artifact(new_id(), "output.xml", output.encode()),
            Artifact(new_id(), "log.html", log.encode()),
        ]
        if last:
            for item in items:
                for name, text in outcomes[item.id].artifacts.items():
                    artifacts.append(Artifact(new_id(), name, text.encode()))
        return artifacts

    def stop(self, run: Run, set_done: bool, terminate: bool, reason: str) -> None:
        with self.lock:
            now = self.clock.now()
            state = self.run_state(run, now)
            if state in ("completed", "unresolved", "terminating"):
                raise Conflict(f"Process run {run.id} is {state}; only a new or running run can be stopped")
            current = [step for step in run.step_runs if step.start <= now and (step.end is None or step.end > now)]
            grace = 0.0 if terminate or not current else min(2.0, min((s.end or now) - now for s in current))
            until = now + grace
            message = f"Process run stopped: {reason}" if reason else "Process run stopped through the API"
            kept: list[StepRun] = []
            for step in run.step_runs:
                if step.start >= until:
                    self.step_runs.pop(step.id, None)
                    continue
                if step.end is None or step.end > until:
                    step.end = until
                    step.outcome = "terminated"
                    step.error = {"code": STOPPED, "message": message}
                kept.append(step)
            run.step_runs = kept
            if not kept:  # stopped while queued: an empty step record keeps the timeline closed
                step = StepRun(
                    new_id(), run.id, 0, "", until, until, "terminated", {"code": STOPPED, "message": message}
                )
                run.step_runs, self.step_runs[step.id] = [step], step
                step.name = self.processes[run.process_id].steps[0]
            for item_id in run.item_ids:
                item = self.items[item_id]
                item.events = [event for event in item.events if event.at < until or event is item.events[0]]
                if item.events[-1].state not in ("done", "failed"):
                    exception = None if set_done else {"type": "APPLICATION", "code": STOPPED, "message": message}
                    item.events.append(ItemEvent(until, "done" if set_done else "failed", None, exception))
            run.stop = {"at": now, "until": until, "reason": reason, "set_done": set_done}

    def retry(self, items: list[WorkItem]) -> None:
        """Send failed work items through their failed step again (and the steps after it)."""
        with self.lock:
            now = self.clock.now()
            for item in items:
                if item.at(now).state != "failed":
                    raise Conflict(
                        f"Work item {item.id} is {item.at(now).state}; only failed work items can be retried"
                    )
            groups: dict[tuple[str, int], list[WorkItem]] = {}
            for item in items:
                state = item.at(now)
                step = self.step_runs.get(state.step_run_id or "")
                groups.setdefault((item.run_id or "", step.index if step else 0), []).append(item)
                item.events.append(ItemEvent(now, "pending"))
            for (run_id, index), group in groups.items():
                run = self.runs[run_id]
                process = self.processes[run.process_id]
                outcomes = {item.id: Outcome.of(item.payload) for item in group}
                self._schedule(process, run, group, index, now + self.QUEUE_SECONDS, outcomes, retry=True)

    # -- real commands --------------------------------------------------------------------------
    def _start_command(self, process: Process, run: Run, items: list[WorkItem], start: float) -> None:
        step = StepRun(
            new_id(),
            run.id,
            0,
            process.steps[0],
            start,
            None,
            "completed",
            item_ids=[item.id for item in items],
        )
        run.step_runs.append(step)
        self.step_runs[step.id] = step
        for item in items:
            item.events.append(ItemEvent(start, "in_progress", step.id))
        threading.Thread(
            target=self._run_command,
            args=(process, run, step, items),
            daemon=True,
            name=f"controlroom-run-{run.number}",
        ).start()

    def _run_command(self, process: Process, run: Run, step: StepRun, items: list[WorkItem]) -> None:
        with tempfile.TemporaryDirectory(prefix="controlroom-run-") as folder:
            work = Path(folder)
            (work / "input").mkdir()
            (work / "output").mkdir()
            inputs = [{"payload": item.payload, "files": {}} for item in items]
            for item, entry in zip(items, inputs, strict=True):
                for name, content in item.files.items():
                    (work / "input" / name).write_bytes(content)
                    entry["files"][name] = str(work / "input" / name)
            (work / "input" / "work-items.json").write_text(json.dumps(inputs))
            env = dict(
                os.environ,
                **process.env,
                RC_PROCESS_RUN_ID=run.id,
                RC_PROCESS_ID=process.id,
                RC_WORKSPACE_ID=run.workspace_id,
                RC_ACTIVITY_RUN_ID=step.id,
                RPA_WORKITEMS_ADAPTER="RPA.Robocorp.WorkItems.FileAdapter",
                RC_WORKITEM_ADAPTER="FileAdapter",
                RPA_INPUT_WORKITEM_PATH=str(work / "input" / "work-items.json"),
                RC_WORKITEM_INPUT_PATH=str(work / "input" / "work-items.json"),
                RPA_OUTPUT_WORKITEM_PATH=str(work / "output" / "work-items.json"),
                RC_WORKITEM_OUTPUT_PATH=str(work / "output" / "work-items.json"),
                ROBOT_ARTIFACTS=str(work / "output"),
            )
            try:
                result = subprocess.run(
                    process.command or [],
                    cwd=process.cwd,
                    env=env,
                    capture_output=True,
                    timeout=600,
                    check=False,
                )
                code, tail = (
                    result.returncode,
                    (result.stdout + result.stderr).decode(errors="replace")[-2000:],
                )
            except (OSError, subprocess.TimeoutExpired) as error:
                code, tail = -1, str(error)
            artifacts = [
                Artifact(new_id(), path.name, path.read_bytes())
                for path in sorted((work / "output").iterdir())
                if path.is_file()
            ]
            artifacts.append(Artifact(new_id(), "console.txt", tail.encode()))
        with self.lock:
            end = self.clock.now()
            if run.stop and step.end is not None:
                return  # stopped meanwhile: the stop already closed the timeline
            step.artifacts = artifacts
            if code == 0:
                for item in items:
                    item.events.append(ItemEvent(end, "done", step.id))
            else:
                step.outcome = "failed"
                step.error = {"code": ROBOT_FAILURE, "message": f"The robot exited with code {code}"}
                for item in items:
                    item.events.append(
                        ItemEvent(
                            end,
                            "failed",
                            step.id,
                            {"type": "APPLICATION", "code": ROBOT_FAILURE, "message": step.error["message"]},
                        )
                    )
            step.end = end
