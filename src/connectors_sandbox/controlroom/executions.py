"""Steps with a real command: robot runs with parallel executions, fed through the worker-side API.

As in Control Room, a step with ``parallel`` N runs up to N robot executions at once. Each gets the
``RC_*`` environment of a Control Room run (its own ``RC_ACTIVITY_RUN_ID``, the first work item
already reserved in ``RC_WORKITEM_ID``, tokens for the work-item and process hosts) and takes further
items with ``reserve-next-work-item`` until the step's queue is empty. An execution that exits while
items remain is followed by a new one. Items released ``COMPLETED`` (or left unreleased by a robot that
exits 0) go on to the next step, replaced by the output work items created from them if there are any;
outputs of the last step are the run's outputs. A robot that exits non-zero fails its unreleased items.
"""

from __future__ import annotations

import collections
import os
import secrets
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors_sandbox.controlroom.model import (
    ROBOT_FAILURE,
    Artifact,
    ItemEvent,
    Output,
    Process,
    Run,
    StepRun,
    WorkItem,
    new_id,
)

if TYPE_CHECKING:
    from connectors_sandbox.controlroom.emulator import ControlRoomSandbox

ARTIFACTS_PLACEHOLDER = "{ROBOT_ARTIFACTS}"
# Variables of a local run that would point a robot at local work items instead of Control Room's.
LOCAL_ONLY = (
    "RC_WORKITEM_ADAPTER",
    "RPA_INPUT_WORKITEM_PATH",
    "RPA_OUTPUT_WORKITEM_PATH",
    "RC_WORKITEM_INPUT_PATH",
    "RC_WORKITEM_OUTPUT_PATH",
)


@dataclass
class Execution:
    work: RunWork
    step_run: StepRun
    tokens: tuple[str, str]  # work-item host token, process host token
    reserved: list[str] = field(default_factory=list)
    released: set[str] = field(default_factory=set)
    popen: subprocess.Popen[bytes] | None = None


@dataclass
class RunWork:
    process: Process
    run: Run
    index: int
    queue: collections.deque[str]
    active: dict[str, Execution] = field(default_factory=dict)
    passed: list[str] = field(default_factory=list)  # items released COMPLETED in this step, in order
    produced: dict[str, list[str]] = field(default_factory=dict)  # parent -> output ids


class Executions:
    def __init__(self, sandbox: ControlRoomSandbox) -> None:
        self.sb = sandbox
        self.tokens: dict[str, Execution] = {}
        self.outputs: dict[str, Output] = {}

    def reset(self) -> None:
        for execution in list(self.tokens.values()):
            if execution.popen and execution.popen.poll() is None:
                execution.popen.kill()
        self.tokens.clear()
        self.outputs.clear()

    # -- the model's executor (called with the model lock held) ---------------------------------------
    def start(self, process: Process, run: Run, items: list[WorkItem], first_step: int) -> None:
        work = RunWork(process, run, first_step, collections.deque(item.id for item in items))
        self._fill(work)

    def _fill(self, work: RunWork) -> None:
        step = work.process.steps[work.index]
        model = self.sb.model
        if work.run.stop:  # a stopped run starts no more robots; the stop closed its items
            work.queue.clear()
            if not work.active:
                work.run.executing = False
            return
        while work.queue and len(work.active) < max(1, step.parallel):
            now = model.clock.now()
            step_run = model.new_step_run(work.process, work.run, work.index, now, now)
            if not step.command:  # a step without a command passes its items on at once
                step_run.end = now
                work.passed.extend(work.queue)
                work.queue.clear()
                break
            execution = Execution(work, step_run, (secrets.token_urlsafe(24), secrets.token_urlsafe(24)))
            self.sb.ctx.remember_secret(*execution.tokens)
            for token in execution.tokens:
                self.tokens[token] = execution
            first = work.queue.popleft()
            self._reserve(execution, first, now)
            work.active[step_run.id] = execution
            threading.Thread(
                target=self._execute, args=(execution, first), daemon=True, name=f"controlroom-{step_run.id[:8]}"
            ).start()
        if not work.active and not work.queue:
            self._next_step(work)

    def _reserve(self, execution: Execution, item_id: str, now: float) -> None:
        execution.reserved.append(item_id)
        execution.step_run.item_ids.append(item_id)
        self.sb.model.items[item_id].events.append(ItemEvent(now, "in_progress", execution.step_run.id))

    def _next_step(self, work: RunWork) -> None:
        model = self.sb.model
        now = model.clock.now()
        inputs: list[str] = []
        for item_id in work.passed:
            inputs.extend(work.produced.get(item_id) or [item_id])
        last = work.index + 1 >= len(work.process.steps)
        if last or not inputs or work.run.stop:
            work.run.executing = False
            self.sb.webhooks.wake()
            return
        for item_id in inputs:
            model.items[item_id].events.append(ItemEvent(now, "pending"))
        self._fill(RunWork(work.process, work.run, work.index + 1, collections.deque(inputs)))

    # -- worker API operations (model lock held) ------------------------------------------------------
    def reserve_next(self, execution: Execution) -> str | None:
        work = execution.work
        if work.run.stop or not work.queue or execution.step_run.end is not None:
            return None
        item_id = work.queue.popleft()
        self._reserve(execution, item_id, self.sb.model.clock.now())
        return item_id

    def release(self, execution: Execution, item_id: str, state: str, exception: dict[str, Any] | None) -> None:
        if item_id not in execution.reserved or item_id in execution.released:
            raise KeyError(f"Work item {item_id} is not reserved by this robot run")
        execution.released.add(item_id)
        now = self.sb.model.clock.now()
        item = self.sb.model.items[item_id]
        work = execution.work
        if state == "COMPLETED":
            work.passed.append(item_id)
            last = work.index + 1 >= len(work.process.steps)
            after = "done" if last or work.produced.get(item_id) else "pending"
            item.events.append(ItemEvent(now, after, execution.step_run.id))
            return
        details = {str(k).lower(): str(v) for k, v in (exception or {}).items()}
        kind = details.get("type", "unspecified").lower()
        failure = {
            "type": kind if kind in ("application", "business", "orchestrator") else "unspecified",
            "code": details.get("code", ""),
            "message": details.get("message", ""),
        }
        item.events.append(ItemEvent(now, "failed", execution.step_run.id, failure))

    def create_output(self, execution: Execution, parent_id: str, payload: Any) -> str:
        work = execution.work
        if parent_id not in execution.reserved or parent_id in execution.released:
            raise KeyError(f"Work item {parent_id} is not an input reserved by this robot run")
        model = self.sb.model
        now = model.clock.now()
        if work.index + 1 >= len(work.process.steps):
            output = Output(new_id(), work.run.id, work.process.id, payload, now)
            work.run.outputs.append(output)
            self.outputs[output.id] = output
            work.produced.setdefault(parent_id, []).append(output.id)
            return output.id
        item = model.create_item(work.process, payload, state="pending", at=now, parent=parent_id)
        item.run_id = work.run.id
        work.run.item_ids.append(item.id)
        work.produced.setdefault(parent_id, []).append(item.id)
        return item.id

    def terminate(self, run: Run) -> None:
        for execution in list(self.tokens.values()):
            if execution.work.run is run and execution.popen and execution.popen.poll() is None:
                execution.popen.kill()

    # -- one robot execution --------------------------------------------------------------------------
    def _environment(self, execution: Execution, first: str, artifacts: Path) -> dict[str, str]:
        work = execution.work
        step = work.process.steps[work.index]
        host = f"{self.sb.public_base()}/controlroom"
        env = {k: v for k, v in os.environ.items() if k not in LOCAL_ONLY}
        env.update(step.env)
        vault = self.sb.vault.env()
        env.update(
            RC_API_WORKITEM_HOST=host,
            RC_API_WORKITEM_TOKEN=execution.tokens[0],
            RC_API_PROCESS_HOST=host,
            RC_API_PROCESS_TOKEN=execution.tokens[1],
            # Control Room gives every run its workspace's Vault, as the robot's Vault clients expect.
            RC_API_SECRET_HOST=vault["RC_API_SECRET_HOST"],
            RC_API_SECRET_TOKEN=vault["RC_API_SECRET_TOKEN"],
            RC_WORKSPACE_ID=work.run.workspace_id,
            RC_PROCESS_ID=work.process.id,
            RC_PROCESS_RUN_ID=work.run.id,
            RC_ACTIVITY_RUN_ID=execution.step_run.id,
            RC_WORKITEM_ID=first,
            RPA_WORKITEMS_ADAPTER="RobocorpAdapter",
            ROBOT_ARTIFACTS=str(artifacts),
            ROBOT_ROOT=step.cwd or os.getcwd(),
        )
        return env

    def _execute(self, execution: Execution, first: str) -> None:
        step = execution.work.process.steps[execution.work.index]
        with tempfile.TemporaryDirectory(prefix="controlroom-run-") as folder:
            artifacts = Path(folder) / "output"
            artifacts.mkdir()
            console = Path(folder) / "console.txt"
            argv = [str(artifacts) if part == ARTIFACTS_PLACEHOLDER else part for part in step.command or []]
            argv = [sys.executable if part == "python" else part for part in argv]
            try:
                with console.open("wb") as sink:
                    execution.popen = subprocess.Popen(
                        argv,
                        cwd=step.cwd,
                        env=self._environment(execution, first, artifacts),
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                    )
                    code = execution.popen.wait(timeout=600)
            except (OSError, subprocess.TimeoutExpired) as error:
                if execution.popen and execution.popen.poll() is None:
                    execution.popen.kill()
                code = -1
                console.write_text(str(error))
            files = [
                Artifact(new_id(), path.name, path.read_bytes())
                for path in sorted(artifacts.iterdir())
                if path.is_file()
            ]
            text = console.read_text(errors="replace")
        self._exited(execution, code, text, files)

    def _exited(self, execution: Execution, code: int, text: str, files: list[Artifact]) -> None:
        model = self.sb.model
        with model.lock:
            for token in execution.tokens:
                self.tokens.pop(token, None)
            if model.runs.get(execution.work.run.id) is not execution.work.run:
                return  # the sandbox was reset (or the run deleted) while the robot ran
            now = model.clock.now()
            step_run, work = execution.step_run, execution.work
            step_run.artifacts = [*files, Artifact(new_id(), "console.txt", text.encode())]
            step_run.console = [(now, line) for line in text.splitlines()[-500:]]
            work.active.pop(step_run.id, None)
            if work.run.stop and step_run.end is not None:
                return  # stopped meanwhile: the stop already closed the timeline
            message = f"The robot exited with code {code}"
            for item_id in execution.reserved:
                if item_id not in execution.released and item_id in model.items:
                    exception = {"type": "APPLICATION", "code": ROBOT_FAILURE, "message": message}
                    self.release(execution, item_id, "COMPLETED" if code == 0 else "FAILED", exception)
            step_run.end = now
            if code != 0:
                step_run.outcome, step_run.error = "failed", {"code": ROBOT_FAILURE}
            self._fill(work)
