"""``/api/v1/workspaces/{ws}/…``: processes, process runs, step runs and work items, as the spec has them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from connectors_sandbox.common import ApiError
from connectors_sandbox.controlroom import access
from connectors_sandbox.controlroom.access import as_list, bad_request, not_found, refusal
from connectors_sandbox.controlroom.model import Artifact, Conflict, StepRun, WorkItem, check_payload
from connectors_sandbox.controlroom.paging import newest_first, page

if TYPE_CHECKING:
    from connectors_sandbox.controlroom.emulator import ControlRoomSandbox, Handler

RUN_STATES = ("new", "in_progress", "completed", "unresolved", "stopping")
WORK_ITEM_STATES = ("new", "pending", "in_progress", "failed", "done")
CALLBACK_EVENTS = ("started", "completed", "unresolved")
START_TYPES = ("with_work_item_ids", "with_inputs", "with_payloads")


class CurrentApi:
    def __init__(self, sandbox: ControlRoomSandbox) -> None:
        self.sb = sandbox

    def handlers(self) -> dict[str, Handler]:
        """The spec's operations this module serves, by operation id (the table gives method, path, scope)."""
        return {
            "getWorkspace": self.get_workspace,
            "listProcesses": self.list_processes,
            "startProcessRun": self.start_run,
            "listProcessRuns": self.list_runs,
            "getProcessRun": self.get_run,
            "deleteProcessRun": self.delete_run,
            "stopProcessRun": self.stop_run,
            "listProcessRunOutputs": self.list_outputs,
            "listStepRuns": self.list_step_runs,
            "getStepRun": self.get_step_run,
            "listStepRunArtifacts": self.list_artifacts,
            "getStepRunArtifact": self.get_artifact,
            "listStepRunConsoleMessages": self.console_messages,
            "listStepRunEvents": self.step_events,
            "listWorkItems": self.list_work_items,
            "createWorkItem": self.create_work_item,
            "runWorkItemBatchOperation": self.batch,
            "getWorkItem": self.get_work_item,
            "createWorkItemFile": self.upload_slot,
            "updateWorkItemPayload": self.update_payload,
        }

    # -- workspace and processes ------------------------------------------------------------------
    async def get_workspace(self, request: Request, ws: str) -> Any:
        return {
            "id": ws,
            "name": self.sb.model.workspaces[ws],
            "organization": {"id": access.stable_id("organization/demo"), "name": access.ORGANIZATION},
        }

    async def list_processes(self, request: Request, ws: str) -> Any:
        rows = sorted((p for p in self.sb.model.processes.values() if p.workspace_id == ws), key=lambda p: p.name)
        return {"data": [self.sb.render.process(p) for p in rows]}  # not paged in the spec

    # -- runs ---------------------------------------------------------------------------------------
    async def start_run(self, request: Request, ws: str) -> Any:
        process = self.sb.process(ws, request.path_params["process_id"])
        body = await self.sb.json(request)
        if body is not None and not isinstance(body, dict):
            raise bad_request("The body must be a JSON object (or omitted)")
        body = body or {}
        if "callback" in body and not isinstance(body["callback"], dict):
            raise bad_request("'callback' must be an object with url, secret and callback_events")
        callback = self._callback(body.get("callback"))
        kind = body.get("type")
        if kind is None:
            if set(body) - {"callback"}:  # the untyped variant holds a callback and nothing else
                raise bad_request(
                    f"Without a type the body may only hold a callback; use one of {', '.join(START_TYPES)}"
                )
            run = self.sb.model.trigger(process, callback=callback)
        elif kind == "with_payloads":
            payloads = body.get("payloads")
            if not isinstance(payloads, list) or not payloads:
                raise bad_request("'payloads' must be a non-empty list of work item payloads")
            run = self.sb.model.trigger(process, payloads, callback=callback)
        elif kind == "with_work_item_ids":
            ids = as_list(body.get("work_item_ids"), "work_item_ids")
            if not ids:
                raise bad_request("'work_item_ids' must name at least one work item")
            run = self.sb.model.trigger(process, item_ids=ids, callback=callback)
        elif kind == "with_inputs":
            waiting = self.sb.model.waiting_inputs(process)
            if not waiting:
                return {"started": False}
            run = self.sb.model.trigger(process, item_ids=[i.id for i in waiting], callback=callback)
        else:
            raise bad_request(f"Unknown type {kind!r}; use one of {', '.join(START_TYPES)}, or no type")
        self.sb.started(run)
        return {"started": True, "id": run.id}

    def _callback(self, value: Any) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise bad_request("'callback' must be an object with url, secret and callback_events")
        for name in ("url", "secret"):
            if not isinstance(value.get(name), str) or not value[name]:
                raise bad_request(f"'callback.{name}' is required")
        events = as_list(value.get("callback_events"), "callback.callback_events")
        unknown = [e for e in events if e not in CALLBACK_EVENTS]
        if unknown:
            raise bad_request(f"Unknown callback event {unknown[0]!r}; use {', '.join(CALLBACK_EVENTS)}")
        self.sb.ctx.remember_secret(value["secret"])
        return {"url": value["url"], "secret": value["secret"], "callback_events": list(events)}

    async def list_runs(self, request: Request, ws: str) -> Any:
        process_id = request.query_params.get("process_id")
        state = _state_filter(request, RUN_STATES)
        now = self.sb.clock.now()
        rows = [
            r
            for r in newest_first(self.sb.model.runs.values())
            if r.workspace_id == ws
            and (not process_id or r.process_id == process_id)
            and (not state or self.sb.model.run_state(r, now) == state)
        ]
        return page(request, rows, lambda r: self.sb.render.run(r, now))

    async def get_run(self, request: Request, ws: str) -> Any:
        return self.sb.render.run(self.sb.run(ws, request.path_params["process_run_id"]), self.sb.clock.now())

    async def delete_run(self, request: Request, ws: str) -> Any:
        run = self.sb.run(ws, request.path_params["process_run_id"])
        self.sb.model.delete_run(run)
        return {"id": run.id, "deleted": True}

    async def stop_run(self, request: Request, ws: str) -> Any:
        run = self.sb.run(ws, request.path_params["process_run_id"])
        body = await self.sb.json(request)
        if not isinstance(body, dict):
            raise bad_request("The body must be a JSON object")
        for name in ("set_remaining_work_items_as_done", "terminate_ongoing_activity_runs"):
            if not isinstance(body.get(name), bool):
                raise bad_request(f"'{name}' is required and must be true or false")
        reason = body.get("reason", "")
        if not isinstance(reason, str):
            raise bad_request("'reason' must be a string")
        accepted = self.sb.model.stop(
            run, body["set_remaining_work_items_as_done"], body["terminate_ongoing_activity_runs"], reason
        )
        if accepted and body["terminate_ongoing_activity_runs"]:
            self.sb.executions.terminate(run)
        return {"accepted": accepted}

    async def list_outputs(self, request: Request, ws: str) -> Any:
        run = self.sb.run(ws, request.path_params["process_run_id"])
        return page(request, list(run.outputs), self.sb.render.output)

    # -- step runs ----------------------------------------------------------------------------------
    async def list_step_runs(self, request: Request, ws: str) -> Any:
        run_id = request.query_params.get("process_run_id")
        if not run_id:
            raise bad_request("The process_run_id query parameter is required")
        run = self.sb.run(ws, run_id)
        now = self.sb.clock.now()
        return page(request, self.sb.model.visible_steps(run, now), lambda s: self.sb.render.step(s, now))

    async def get_step_run(self, request: Request, ws: str) -> Any:
        return self.sb.render.step(self.sb.step(ws, request.path_params["step_run_id"]), self.sb.clock.now())

    def _artifacts(self, step: StepRun) -> list[Artifact]:
        state = step.state(self.sb.clock.now())
        return list(step.artifacts) if state in ("completed", "failed") else []

    async def list_artifacts(self, request: Request, ws: str) -> Any:
        step = self.sb.step(ws, request.path_params["step_run_id"])
        return page(request, self._artifacts(step), lambda a: {"id": a.id, "name": a.name, "size": len(a.content)}, 100)

    def artifact(self, step: StepRun, artifact_id: str) -> Artifact:
        found = next((a for a in self._artifacts(step) if a.id == artifact_id), None)
        if found is None:
            raise not_found(f"Artifact {artifact_id} not found")
        return found

    async def get_artifact(self, request: Request, ws: str) -> Any:
        step = self.sb.step(ws, request.path_params["step_run_id"])
        artifact = self.artifact(step, request.path_params["artifact_id"])
        url = self.sb.storage.download_url(self.sb.base(request), artifact.name, lambda: artifact.content)
        return {"id": artifact.id, "name": artifact.name, "size": len(artifact.content), "url": url}

    async def console_messages(self, request: Request, ws: str) -> Any:
        step = self.sb.step(ws, request.path_params["step_run_id"])
        now = self.sb.clock.now()
        lines = [(at, text) for at, text in step.console if at <= now]
        iso = self.sb.clock.iso
        return page(request, lines, lambda line: {"timestamp": iso(line[0]), "message": line[1]}, 100)

    async def step_events(self, request: Request, ws: str) -> Any:
        step = self.sb.step(ws, request.path_params["step_run_id"])
        now = self.sb.clock.now()
        events = [(step.queued, "step_run_created")]
        if step.start <= now:
            events.append((step.start, "step_run_started"))
        if step.end is not None and step.end <= now:
            events.append((step.end, f"step_run_{step.outcome}"))
        iso = self.sb.clock.iso
        return page(request, events, lambda e: {"timestamp": iso(e[0]) or "", "event_type": e[1]}, 100)

    # -- work items ---------------------------------------------------------------------------------
    async def list_work_items(self, request: Request, ws: str) -> Any:
        params = request.query_params
        state = _state_filter(request, WORK_ITEM_STATES)
        now = self.sb.clock.now()
        rows = [
            i
            for i in newest_first(self.sb.model.items.values())
            if i.workspace_id == ws
            and (not params.get("process_id") or i.process_id == params["process_id"])
            and (not params.get("process_run_id") or i.run_id == params["process_run_id"])
            and (not state or i.at(now).state == state)
        ]
        return page(request, rows, lambda i: self.sb.render.item(i, now, include_data=False))

    async def get_work_item(self, request: Request, ws: str) -> Any:
        return self.sb.render.item(self.sb.item(ws, request.path_params["work_item_id"]), self.sb.clock.now())

    async def create_work_item(self, request: Request, ws: str) -> Any:
        body = await self.sb.json(request)
        if not isinstance(body, dict) or not isinstance(body.get("process"), dict) or "payload" not in body:
            raise bad_request('The body must be {"process": {"id": ...}, "payload": ...}')
        process_id = body["process"].get("id")
        if not isinstance(process_id, str):
            raise bad_request("'process.id' is required")
        item = self.sb.model.create_item(self.sb.process(ws, process_id), body["payload"])
        return self.sb.render.item(item, self.sb.clock.now())

    async def upload_slot(self, request: Request, ws: str) -> Any:
        item = self.sb.item(ws, request.path_params["work_item_id"])
        body = await self.sb.json(request)
        name, size = (body.get("file_name"), body.get("file_size")) if isinstance(body, dict) else (None, None)
        url, fields = self.sb.upload_slot(request, item, name, size)
        return {"url": url, "form_data": fields}

    async def update_payload(self, request: Request, ws: str) -> Any:
        item = self.sb.item(ws, request.path_params["work_item_id"])
        body = await self.sb.json(request)
        if not isinstance(body, dict) or body.get("payload") is None:
            raise bad_request('The body must be {"payload": <any JSON value but null>}')
        check_payload(body["payload"])
        state = item.at(self.sb.clock.now()).state
        if state == "in_progress":
            raise bad_request(f"Work item {item.id} is in progress; update its payload once a robot released it")
        item.payload = body["payload"]
        return {"payload": item.payload}

    async def batch(self, request: Request, ws: str) -> Any:
        body = await self.sb.json(request)
        operation = body.get("batch_operation") if isinstance(body, dict) else None
        if operation not in ("retry", "delete", "mark_as_done"):
            raise bad_request("'batch_operation' must be retry, delete or mark_as_done")
        ids = as_list(body.get("work_item_ids"), "work_item_ids")
        items: list[WorkItem] = [self.sb.item(ws, i) for i in ids]
        if operation == "retry":
            self.sb.model.retry(items)
        elif operation == "mark_as_done":
            self.sb.model.mark_done(items)
        else:
            self.sb.model.delete_items(items)
        self.sb.webhooks.wake()
        return {"accepted": True}


def conflict(error: Conflict) -> ApiError:
    return refusal(409, str(error))


def _state_filter(request: Request, states: tuple[str, ...]) -> str | None:
    """The ``state`` query filter of a listing: absent, or one of ``states`` (400 naming them)."""
    state = request.query_params.get("state")
    if state is not None and state not in states:
        raise bad_request(f"Unknown state {state!r}; use one of {', '.join(states)}")
    return state
