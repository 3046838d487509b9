"""The Control Room simulation behind both API generations: processes, runs, step runs, work items.

Nothing here speaks HTTP. A simulated run is scheduled when it is triggered: every step run gets a
start and an end in *sandbox time* and every work item a list of timed state changes, so any later
request reads the state "as of now" without a background scheduler. Stopping and retrying rewrite the
schedule from the moment they happen. Sandbox time runs ``time_scale`` times faster than the wall
clock, so a 60 s run can finish in 6 s for a test. Steps with a real command are executed instead
(``executions.py``): their timeline is written as the robots reserve and release work items.

States as the spec enumerates them: runs ``new`` → ``in_progress`` → ``completed`` | ``unresolved``
(a stop passes through ``stopping``); step runs ``awaiting_worker`` → ``in_progress`` →
``completed`` | ``failed``; work items ``new`` (created, not in a run), ``pending``, ``in_progress``,
``done``, ``failed``. A run is ``unresolved`` when any of its work items failed, as in Control Room; it
becomes ``completed`` once the failed items are retried successfully.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

# Work item exception codes as the sandbox reports them (the spec documents the field, not the codes).
# Control Room refuses a work-item payload over 100 KB ("Control Room already prevents any payload size > 100KB",
# a Robocorp maintainer in rpaframework#559), read as 100,000 bytes of its JSON in UTF-8. The library's
# client refuses the same before sending (a test holds the two numbers equal).
PAYLOAD_LIMIT = 100_000
ROBOT_FAILURE = "ROBOT_FAILURE"
STOPPED = "PROCESS_RUN_STOPPED"
FINISHED = ("completed", "unresolved")


def new_id() -> str:
    return str(uuid.uuid4())


def stable_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://sandbox.invalid/controlroom/{name}"))


class Clock:
    """Sandbox time: seconds since the sandbox started, advancing ``time_scale`` times the wall clock."""

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
class Step:
    """One step of a process; with ``command`` its runs execute that argv, ``parallel`` at a time."""

    id: str
    name: str
    command: list[str] | None = None
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    parallel: int = 1


@dataclass
class Process:
    id: str
    name: str
    workspace_id: str
    steps: list[Step]
    created: float = 0.0
    # The work item a run started without a body gets (configured per process in Control Room; empty if not).
    default_payload: Any = None

    @property
    def runs_commands(self) -> bool:
        return any(step.command for step in self.steps)


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
    step_id: str
    queued: float
    start: float
    end: float | None  # None while a real command is still running
    outcome: str  # state once ended: completed | failed
    error: dict[str, str] | None = None
    item_ids: list[str] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    console: list[tuple[float, str]] = field(default_factory=list)

    def state(self, now: float) -> str:
        if now < self.start:
            return "awaiting_worker"
        return "in_progress" if self.end is None or now < self.end else self.outcome

    def updated(self, now: float) -> float:
        if now < self.start:
            return self.queued
        return self.start if self.end is None or now < self.end else self.end


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
    parent_id: str | None = None
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
class Output:
    """A work item the run's last step produced (``GET /process-runs/{id}/outputs``)."""

    id: str
    run_id: str
    process_id: str
    payload: Any
    created: float
    files: dict[str, bytes] = field(default_factory=dict)


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
    outputs: list[Output] = field(default_factory=list)
    stop: dict[str, Any] | None = None
    callback: dict[str, Any] | None = None
    executing: bool = False  # a step with a real command is being worked on

    def finish(self) -> float | None:
        if self.executing or not self.step_runs or any(step.end is None for step in self.step_runs):
            return None
        return max(step.end for step in self.step_runs if step.end is not None)


@dataclass
class Outcome:
    """What the payload's ``sandbox`` field asks of one work item in a simulated run."""

    result: str = "ok"  # ok | fail | unresolved
    step: int | None = None  # the step index where it goes wrong (default: the last step)
    seconds: float | None = None
    message: str = ""
    retry: str = "ok"
    artifacts: dict[str, str] = field(default_factory=dict)
    outputs: list[Any] = field(default_factory=list)

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
        outputs = spec.get("outputs") or []
        return cls(
            result,
            int(step) if step is not None else None,
            float(seconds) if seconds is not None else None,
            str(spec.get("message", "")),
            str(spec.get("retry_outcome", "ok")).lower(),
            {str(k): str(v) for k, v in artifacts.items()} if isinstance(artifacts, dict) else {},
            list(outputs) if isinstance(outputs, list) else [],
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
        # Called with (process, run, items, first step) when a run of a process with commands starts.
        self.executor: Callable[[Process, Run, list[WorkItem], int], None] | None = None

    # -- set-up --------------------------------------------------------------------------------
    def add_workspace(self, workspace_id: str, name: str) -> None:
        self.workspaces[workspace_id] = name

    def add_process(
        self,
        workspace_id: str,
        name: str,
        steps: list[Step | str],
        process_id: str | None = None,
        default_payload: Any = None,
    ) -> Process:
        pid = process_id or new_id()
        built = [
            s if isinstance(s, Step) else Step(stable_id(f"step/{pid}/{i}"), str(s)) for i, s in enumerate(steps)
        ] or [Step(stable_id(f"step/{pid}/0"), "Run robot")]
        process = Process(pid, name, workspace_id, built, self.clock.now(), default_payload)
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
        run = self.runs.get(step.run_id)
        return step if run and run.workspace_id == workspace_id and step.queued <= self.clock.now() else None

    # -- states ---------------------------------------------------------------------------------
    def run_state(self, run: Run, now: float) -> str:
        if run.stop and run.stop["at"] <= now < run.stop["until"]:
            return "stopping"
        finish = run.finish()
        if finish is None or now < finish:
            return "in_progress" if any(step.start <= now for step in run.step_runs) else "new"
        states = [self.items[item_id].at(now).state for item_id in run.item_ids if item_id in self.items]
        return "completed" if all(state == "done" for state in states) else "unresolved"

    def visible_steps(self, run: Run, now: float) -> list[StepRun]:
        return [step for step in run.step_runs if step.queued <= now]

    # -- work items -----------------------------------------------------------------------------
    def create_item(
        self, process: Process, payload: Any, state: str = "new", at: float | None = None, parent: str | None = None
    ) -> WorkItem:
        check_payload(payload)
        Outcome.of(payload)  # reject a malformed sandbox field before anything is stored
        now = self.clock.now() if at is None else at
        item = WorkItem(new_id(), process.workspace_id, process.id, payload, now, next(self._seq), parent_id=parent)
        item.events.append(ItemEvent(now, state))
        self.items[item.id] = item
        return item

    def waiting_inputs(self, process: Process) -> list[WorkItem]:
        """Items created for the process and not yet in a run: its input queue, oldest first."""
        now = self.clock.now()
        rows = [i for i in self.items.values() if i.process_id == process.id and i.run_id is None]
        return sorted((i for i in rows if i.at(now).state == "new"), key=lambda i: i.seq)

    # -- runs -----------------------------------------------------------------------------------
    def trigger(
        self,
        process: Process,
        payloads: list[Any] | None = None,
        item_ids: list[str] | None = None,
        started_by: str = "api",
        at: float | None = None,
        callback: dict[str, Any] | None = None,
    ) -> Run:
        """Start a run with new work items (one per payload), with existing ones, or - with neither - with
        the process's default work item."""
        for payload in payloads or []:
            check_payload(payload)  # all of them before anything is stored
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
            default = {} if process.default_payload is None else process.default_payload
            for payload in payloads if payloads is not None else ([] if item_ids else [default]):
                items.append(self.create_item(process, payload, at=now))
            counter = self._numbers.setdefault(process.id, itertools.count(1))
            run = Run(new_id(), process.workspace_id, process.id, next(counter), now, next(self._seq), started_by)
            run.callback = callback
            for item in items:
                item.run_id = run.id
                item.events.append(ItemEvent(now, "pending"))
                run.item_ids.append(item.id)
            self.runs[run.id] = run
            if process.runs_commands and self.executor is not None:
                run.executing = True
                self.executor(process, run, items, 0)
            else:
                outcomes = {item.id: Outcome.of(item.payload) for item in items}
                self._schedule(process, run, items, 0, now, now + self.QUEUE_SECONDS, outcomes)
            return run

    def _seconds(self, outcomes: dict[str, Outcome]) -> float:
        asked = [o.seconds for o in outcomes.values() if o.seconds is not None]
        return max(asked) if asked else float(self.default_seconds())

    def new_step_run(self, process: Process, run: Run, index: int, queued: float, start: float) -> StepRun:
        step = process.steps[index]
        step_run = StepRun(new_id(), run.id, index, step.name, step.id, queued, start, None, "completed")
        run.step_runs.append(step_run)
        self.step_runs[step_run.id] = step_run
        return step_run

    def _schedule(
        self,
        process: Process,
        run: Run,
        items: list[WorkItem],
        first_step: int,
        queued: float,
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
            step = self.new_step_run(process, run, index, queued if index == first_step else moment, moment)
            end = moment + share
            step.end = end
            step.item_ids = [item.id for item in alive]
            step.console = [(moment, f"Robot started: {step.name}"), (moment, f"{len(alive)} work item(s) to process")]
            for item in alive:
                item.events.append(ItemEvent(moment, "in_progress", step.id))
            wants = {item.id: (outcomes[item.id].retry if retry else outcomes[item.id].result) for item in alive}

            def fails_here(item: WorkItem, result: str, _index: int = index, _wants: dict = wants) -> bool:
                wanted = outcomes[item.id].step
                return _wants[item.id] == result and (last if wanted is None else min(wanted, last)) == _index

            crashing = [item for item in alive if fails_here(item, "fail")]
            if crashing:
                message = (
                    outcomes[crashing[0].id].message
                    or f"Robot failed in step {steps[index].name!r}: task raised an error"
                )
                step.outcome = "failed"
                step.error = {"code": ROBOT_FAILURE}
                step.console.append((end, message))
                for item in alive:
                    exception = {"type": "application", "code": ROBOT_FAILURE, "message": message}
                    item.events.append(ItemEvent(end, "failed", step.id, exception))
                alive = []
            else:
                for item in [item for item in alive if fails_here(item, "unresolved")]:
                    message = outcomes[item.id].message or "Business rule failed: the input data is not valid"
                    exception = {"type": "business", "code": "INVALID_DATA", "message": message}
                    item.events.append(ItemEvent(end, "failed", step.id, exception))
                    step.console.append((end, f"Work item {item.id} failed: {message}"))
                    alive.remove(item)
                if index == last:
                    for item in alive:
                        item.events.append(ItemEvent(end, "done", step.id))
                        for payload in outcomes[item.id].outputs:
                            run.outputs.append(Output(new_id(), run.id, process.id, payload, end))
            step.console.append((end, f"Robot finished: {step.outcome}"))
            step.artifacts = self._artifacts(process, run, step, items, outcomes, index == last)
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

    def stop(self, run: Run, set_done: bool, terminate: bool, reason: str) -> bool:
        """Stop a new or running run; False (not accepted) when it has finished or is stopping already."""
        with self.lock:
            now = self.clock.now()
            state = self.run_state(run, now)
            if state in ("completed", "unresolved", "stopping"):
                return False
            current = [step for step in run.step_runs if step.start <= now and (step.end is None or step.end > now)]
            grace = 0.0 if terminate or not current else min(2.0, min((s.end or now + 2.0) - now for s in current))
            until = now + grace
            message = f"Process run stopped: {reason}" if reason else "Process run stopped through the API"
            kept: list[StepRun] = []
            for step in run.step_runs:
                if step.start >= until:
                    self.step_runs.pop(step.id, None)
                    continue
                if step.end is None or step.end > until:
                    step.end = until
                    step.outcome = "failed"
                    step.error = {"code": STOPPED}
                    step.console.append((until, message))
                kept.append(step)
            run.step_runs = kept
            if not kept:  # stopped while queued: one failed step record keeps the timeline closed
                process = self.processes[run.process_id]
                step = self.new_step_run(process, run, 0, run.created, until)
                step.end, step.outcome, step.error = until, "failed", {"code": STOPPED}
            for item_id in run.item_ids:
                item = self.items[item_id]
                item.events = [event for event in item.events if event.at < until or event is item.events[0]]
                if item.events[-1].state not in ("done", "failed"):
                    exception = None if set_done else {"type": "orchestrator", "code": STOPPED, "message": message}
                    item.events.append(ItemEvent(until, "done" if set_done else "failed", None, exception))
            run.stop = {"at": now, "until": until, "reason": reason, "set_done": set_done, "terminate": terminate}
            run.executing = False
            return True

    def retry(self, items: list[WorkItem]) -> list[WorkItem]:
        """Send failed work items through their failed step again; items in another state are skipped."""
        with self.lock:
            now = self.clock.now()
            failed = [item for item in items if item.at(now).state == "failed" and item.run_id]
            groups: dict[tuple[str, int], list[WorkItem]] = {}
            for item in failed:
                state = item.at(now)
                step = self.step_runs.get(state.step_run_id or "")
                groups.setdefault((item.run_id or "", step.index if step else 0), []).append(item)
                item.events.append(ItemEvent(now, "pending"))
            for (run_id, index), group in groups.items():
                run = self.runs[run_id]
                process = self.processes[run.process_id]
                run.stop = None
                if process.runs_commands and self.executor is not None:
                    run.executing = True
                    self.executor(process, run, group, index)
                    continue
                outcomes = {item.id: Outcome.of(item.payload) for item in group}
                self._schedule(process, run, group, index, now, now + self.QUEUE_SECONDS, outcomes, retry=True)
            return failed

    def mark_done(self, items: list[WorkItem]) -> list[WorkItem]:
        with self.lock:
            now = self.clock.now()
            failed = [item for item in items if item.at(now).state == "failed"]
            for item in failed:
                item.events.append(ItemEvent(now, "done", item.at(now).step_run_id))
            return failed

    def delete_items(self, items: list[WorkItem]) -> list[WorkItem]:
        """Delete items that no robot is working on (new, done or failed)."""
        with self.lock:
            now = self.clock.now()
            gone = [item for item in items if item.at(now).state in ("new", "done", "failed")]
            for item in gone:
                self.items.pop(item.id, None)
                if item.run_id and item.run_id in self.runs:
                    run = self.runs[item.run_id]
                    run.item_ids = [i for i in run.item_ids if i != item.id]
            return gone

    def delete_run(self, run: Run) -> None:
        with self.lock:
            state = self.run_state(run, self.clock.now())
            if state not in FINISHED:
                raise Conflict(f"Process run {run.id} is {state}; stop it before deleting it")
            for step in run.step_runs:
                self.step_runs.pop(step.id, None)
            for item_id in run.item_ids:
                self.items.pop(item_id, None)
            del self.runs[run.id]


def check_payload(payload: Any) -> None:
    """Refuse a work-item payload over ``PAYLOAD_LIMIT`` bytes of JSON (ValueError: a 400 at the API)."""
    size = len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > PAYLOAD_LIMIT:
        raise ValueError(
            f"Work item payload is {size} bytes; the limit is {PAYLOAD_LIMIT} bytes. "
            "Store large data in a work item file"
        )
