"""The simulation as JSON: the spec's resources for ``/api/v1`` and the legacy ``/process-v1`` shapes.

Current-API renderers emit exactly the fields the spec lists, nothing more.
"""

from __future__ import annotations

from typing import Any

from connectors_sandbox.controlroom.model import (
    FINISHED,
    ControlRoomModel,
    Output,
    Process,
    Run,
    StepRun,
    WorkItem,
    stable_id,
)

LEGACY_RUN_STATE = {"new": "INI", "in_progress": "IP", "stopping": "IP", "completed": "COMPL", "unresolved": "COMPL"}
LEGACY_STEP_STATE = {"awaiting_worker": "INI", "in_progress": "IP", "completed": "COMPL", "failed": "COMPL"}
LEGACY_ITEM_STATE = {"new": "NEW", "pending": "PENDING", "in_progress": "IN_PROGRESS", "done": "COMPLETED"}
LEGACY_ITEM_STATE["failed"] = "FAILED"


class Renderer:
    def __init__(self, model: ControlRoomModel) -> None:
        self.model = model
        self.clock = model.clock

    # -- current API ------------------------------------------------------------------------------
    def process(self, process: Process) -> dict[str, Any]:
        return {"id": process.id, "name": process.name, "created_at": self.clock.iso(process.created)}

    def run(self, run: Run, now: float) -> dict[str, Any]:
        process = self.model.processes[run.process_id]
        state = self.model.run_state(run, now)
        started = min((s.start for s in run.step_runs if s.start <= now), default=None)
        ended = run.finish() if state in FINISHED else None
        return {
            "id": run.id,
            "state": state,
            "created_at": self.clock.iso(run.created),
            "started_at": self.clock.iso(started),
            "ended_at": self.clock.iso(ended),
            "process": {"id": process.id, "name": process.name},
            "started_by": {"type": run.started_by, "details": None},
            "duration": round((ended if ended is not None else now) - started, 3) if started is not None else None,
        }

    def step(self, step: StepRun, now: float) -> dict[str, Any]:
        state = step.state(now)
        started = step.start if state != "awaiting_worker" else None
        ended = step.end if state in ("completed", "failed") else None
        return {
            "id": step.id,
            "state": state,
            "state_updated_at": self.clock.iso(step.updated(now)),
            "error": {"code": step.error["code"]} if step.error and state == "failed" else None,
            "started_at": self.clock.iso(started),
            "ended_at": self.clock.iso(ended),
            "duration": round((ended if ended is not None else now) - started, 3) if started is not None else None,
            "step": {"id": step.step_id, "name": step.name},
        }

    def item(self, item: WorkItem, now: float, include_data: bool = True) -> dict[str, Any]:
        event = item.at(now)
        step_run = self.model.step_runs.get(event.step_run_id or "")
        data: dict[str, Any] = {
            "id": item.id,
            "created_at": self.clock.iso(item.created),
            "state": event.state,
            "state_updated_at": self.clock.iso(event.at),
            "process": {"id": item.process_id},
            "process_run": {"id": item.run_id} if item.run_id else None,
            "step": {"id": step_run.step_id} if step_run else None,
            "step_run": {"id": step_run.id} if step_run else None,
            "exception": event.exception if event.state == "failed" else None,
        }
        if include_data:
            data["payload"] = item.payload
            data["files"] = files(item.id, item.files)
        return data

    def output(self, output: Output) -> dict[str, Any]:
        return {
            "id": output.id,
            "created_at": self.clock.iso(output.created),
            "process": {"id": output.process_id},
            "process_run": {"id": output.run_id},
            "payload": output.payload,
            "files": files(output.id, output.files),
        }

    # -- legacy process-v1 --------------------------------------------------------------------------
    def legacy_run(self, run: Run, now: float) -> dict[str, Any]:
        current = self.run(run, now)
        state = current["state"]
        items = [self.model.items[i].at(now).state for i in run.item_ids if i in self.model.items]
        failed = next((s for s in reversed(self.model.visible_steps(run, now)) if s.state(now) == "failed"), None)
        error_code = None
        if state == "unresolved":
            error_code = failed.error["code"] if failed and failed.error else "WORK_ITEM_FAILURES"
        return {
            "id": run.id,
            "processId": run.process_id,
            "runNo": run.number,
            "state": LEGACY_RUN_STATE[state],
            "result": None if state not in FINISHED else ("ok" if state == "completed" else "err"),
            "errorCode": error_code,
            "startTs": current["started_at"],
            "endTs": current["ended_at"],
            "createTs": current["created_at"],
            "duration": current["duration"],
            "triggeredBy": run.started_by,
            "workItemStats": {
                "totalCount": len(items),
                "succeededCount": items.count("done"),
                "failedCount": items.count("failed"),
                "inProgressCount": items.count("in_progress"),
                "pendingCount": items.count("pending"),
            },
        }

    def legacy_step(self, step: StepRun, now: float) -> dict[str, Any]:
        current = self.step(step, now)
        state = current["state"]
        return {
            "id": step.id,
            "processRunId": step.run_id,
            "activityName": step.name,
            "stepNo": step.index + 1,
            "state": LEGACY_STEP_STATE[state],
            "result": None if state not in ("completed", "failed") else ("ok" if state == "completed" else "err"),
            "errorCode": current["error"]["code"] if current["error"] else None,
            "startTs": current["started_at"],
            "endTs": current["ended_at"],
            "duration": current["duration"],
        }

    def legacy_item(self, item: WorkItem, now: float, include_data: bool) -> dict[str, Any]:
        event = item.at(now)
        exception = event.exception if event.state == "failed" else None
        data: dict[str, Any] = {
            "id": item.id,
            "state": LEGACY_ITEM_STATE[event.state],
            "processId": item.process_id,
            "processRunId": item.run_id,
            "activityRunId": event.step_run_id,
            "createTs": self.clock.iso(item.created),
            "exception": dict(exception, type=exception["type"].upper()) if exception else None,
        }
        if include_data:
            data["payload"] = item.payload
            data["files"] = [
                {"id": stable_id(f"file/{item.id}/{name}"), "fileName": name, "fileSize": len(content)}
                for name, content in item.files.items()
            ]
        return data


def files(owner_id: str, stored: dict[str, bytes]) -> list[dict[str, Any]]:
    return [
        {"id": stable_id(f"file/{owner_id}/{name}"), "size": len(content), "name": name}
        for name, content in stored.items()
    ]
