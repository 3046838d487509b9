"""Robocorp Control Room emulation under ``/controlroom``: the current API and the legacy process-v1 API.

- current: ``/controlroom/api/v1/workspaces/{ws}/…`` (snake_case, ``{"data", "has_more", "next"}`` pages)
- legacy:  ``/controlroom/process-v1/workspaces/{ws}/…`` (camelCase, the shapes rpaframework's
  ``RPA.Robocorp.Process`` reads: ``{"data": [...]}``, bare lists for ``pruns`` and artifacts,
  run ``state`` codes ``INI`` / ``IP`` / ``COMPL`` with ``result`` ``ok`` / ``err`` and ``errorCode``)

Both read and write the same simulation (``controlroom_model``). Every call needs
``Authorization: RC-WSKEY <key>``; keys belong to one workspace and carry permissions, and a key
without the permission an endpoint needs gets a 403 naming it. A per-key token bucket answers 429
with ``Retry-After``. Artifacts and work-item files move through pre-signed-style URLs that need no
key but expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import secrets
import shlex
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from Connectors.sandbox.app import SandboxContext, VendorSandbox
from Connectors.sandbox.common import ServerBucket, ceil_seconds
from Connectors.sandbox.controlroom_model import (
    Artifact,
    Clock,
    Conflict,
    ControlRoomModel,
    Process,
    Run,
    StepRun,
    WorkItem,
)

READ_PROCESSES = "read_processes"
TRIGGER_PROCESSES = "trigger_processes"
READ_RUNS = "read_runs"
WRITE_RUNS = "write_runs"
READ_WORK_ITEMS = "read_work_items"
WRITE_WORK_ITEMS = "write_work_items"
READ_RUN_OUTPUTS = "read_run_outputs"
ALL_PERMISSIONS = (
    READ_PROCESSES,
    TRIGGER_PROCESSES,
    READ_RUNS,
    WRITE_RUNS,
    READ_WORK_ITEMS,
    WRITE_WORK_ITEMS,
    READ_RUN_OUTPUTS,
)
READ_ONLY = (READ_PROCESSES, READ_RUNS, READ_WORK_ITEMS, READ_RUN_OUTPUTS)

LEGACY_RUN_STATE = {
    "new": "INI",
    "in_progress": "IP",
    "terminating": "IP",
    "completed": "COMPL",
    "unresolved": "COMPL",
}
LEGACY_STEP_STATE = {"in_progress": "IP", "completed": "COMPL", "failed": "COMPL", "terminated": "COMPL"}
LEGACY_ITEM_STATE = {
    "new": "NEW",
    "pending": "PENDING",
    "in_progress": "IN_PROGRESS",
    "done": "COMPLETED",
    "failed": "FAILED",
}
WORK_ITEM_STATES = ("new", "pending", "in_progress", "done", "failed")
RUN_STATES = ("new", "in_progress", "terminating", "completed", "unresolved")


def demo_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://sandbox.invalid/controlroom/{name}"))


log = logging.getLogger("connectors.sandbox.controlroom")
WORKSPACE_ID = demo_id("workspace/demo")
OTHER_WORKSPACE_ID = demo_id("workspace/other")
ORGANIZATION = "demo-organization"
DEMO_PROCESSES = [
    ("Invoice Processing", ["Read invoices", "Post invoices"]),
    ("Customer Onboarding", ["Onboard customer"]),
    ("Report Generation", ["Collect data", "Build report", "Send report"]),
]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def response(self) -> Response:
        return JSONResponse({"error": self.code, "message": self.message}, self.status, headers=self.headers)


class ApiKey:
    def __init__(self, value: str, workspace_id: str, permissions: Iterable[str], name: str) -> None:
        self.value, self.workspace_id, self.permissions, self.name = (
            value,
            workspace_id,
            set(permissions),
            name,
        )


Handler = Callable[[Request], Awaitable[Any]]


class ControlRoomSandbox(VendorSandbox):
    name = "controlroom"
    DEFAULT_RATE = 50.0  # requests per second per key (Control Room publishes no limit)
    DEFAULT_BURST = 100

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx)
        # Keys are minted once per sandbox process and survive resets, so clients keep working.
        self.full_key = "crk_" + secrets.token_urlsafe(24)
        self.readonly_key = "crk_" + secrets.token_urlsafe(24)
        self.other_key = "crk_" + secrets.token_urlsafe(24)
        self.webhook_secret = "whsec_" + secrets.token_urlsafe(24)
        ctx.remember_secret(self.full_key, self.readonly_key, self.other_key, self.webhook_secret)
        self.keys = {
            self.full_key: ApiKey(self.full_key, WORKSPACE_ID, ALL_PERMISSIONS, "demo-all"),
            self.readonly_key: ApiKey(self.readonly_key, WORKSPACE_ID, READ_ONLY, "demo-read-only"),
            self.other_key: ApiKey(self.other_key, OTHER_WORKSPACE_ID, ALL_PERMISSIONS, "other-workspace"),
        }
        self.clock = Clock(lambda: ctx.options.time_scale)
        self.url_ttl = 60.0
        self.rate = self.DEFAULT_RATE
        self.burst = self.DEFAULT_BURST
        self.webhook_url: str | None = None
        self.webhook_events: list[dict[str, Any]] = []
        self._notified: set[str] = set()
        self._signed: dict[str, tuple[str, float]] = {}  # signature -> (artifact id, expiry)
        self._uploads: dict[str, tuple[str, str, int, float]] = {}  # policy -> (item id, name, size, expiry)
        self._artifacts: dict[str, Artifact] = {}
        self._watcher_started = False
        self.reset()

    # -- data -------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.model = ControlRoomModel(self.clock, lambda: self.ctx.options.run_seconds)
        self.bucket = ServerBucket(self.ctx.scaled(self.rate), max(1, round(self.ctx.scaled(self.burst))))
        self.webhook_events = []
        self._notified = set()
        self._signed.clear()
        self._uploads.clear()
        self._artifacts.clear()
        self.webhook_url = None
        self.model.add_workspace(WORKSPACE_ID, "Demo workspace")
        self.model.add_workspace(OTHER_WORKSPACE_ID, "Other workspace")
        for name, steps in DEMO_PROCESSES:
            self.model.add_process(WORKSPACE_ID, name, steps, demo_id(f"process/{name}"))
        self.model.add_process(OTHER_WORKSPACE_ID, "Other Process", ["Run robot"], demo_id("process/other"))
        if self.ctx.options.demo:
            # A little history, so listing runs shows something on a fresh sandbox.
            invoice = self.model.processes[demo_id("process/Invoice Processing")]
            for payload in (
                {"invoice": "INV-1001"},
                {"invoice": "INV-1002", "sandbox": {"outcome": "unresolved"}},
                {"invoice": "INV-1003"},
            ):
                self.model.trigger(invoice, [payload], started_by="scheduler", at=-3600.0)

    def info(self) -> dict[str, Any]:
        return {
            "env": {
                "CONTROLROOM_WORKSPACE_ID": WORKSPACE_ID,
                "CONTROLROOM_API_KEY": self.full_key,
                "CONTROLROOM_READONLY_API_KEY": self.readonly_key,
                "CONTROLROOM_OTHER_WORKSPACE_ID": OTHER_WORKSPACE_ID,
                "CONTROLROOM_OTHER_WORKSPACE_API_KEY": self.other_key,
                "CONTROLROOM_PROCESS_ID": demo_id("process/Invoice Processing"),
                "CONTROLROOM_WEBHOOK_SECRET": self.webhook_secret,
                "CONTROLROOM_ORGANIZATION": ORGANIZATION,
            },
            "processes": [name for name, _ in DEMO_PROCESSES],
            "rate_limit": f"{self.ctx.scaled(self.rate):g}/s",
            "run_states": list(RUN_STATES),
            "permissions": list(ALL_PERMISSIONS),
        }

    # -- guards -----------------------------------------------------------------------------------
    def _authenticate(self, request: Request, workspace_id: str, permission: str, key: str | None = None) -> ApiKey:
        if key is None:
            header = request.headers.get("authorization", "")
            scheme, _, key = header.partition(" ")
            if scheme != "RC-WSKEY" or not key.strip():
                raise ApiError(
                    401,
                    "unauthorized",
                    "Missing or malformed Authorization header; send 'Authorization: RC-WSKEY <api key>'",
                )
            key = key.strip()
        api_key = self.keys.get(key)
        if api_key is None:
            raise ApiError(401, "unauthorized", "Invalid API key")
        allowed, _remaining, wait = self.bucket.take(api_key.value)
        if not allowed:
            raise ApiError(
                429, "rate_limited", "Too many requests, slow down", {"Retry-After": str(ceil_seconds(wait))}
            )
        if api_key.workspace_id != workspace_id:
            raise ApiError(403, "forbidden", f"The API key is not valid for workspace {workspace_id}")
        if permission not in api_key.permissions:
            raise ApiError(
                403,
                "forbidden",
                f"The API key '{api_key.name}' lacks the permission '{permission}' for this operation",
            )
        return api_key

    def _api(
        self,
        permission: str,
        handler: Callable[..., Awaitable[Any]],
        legacy: bool = False,
        query_token: bool = False,
    ) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                workspace_id = request.path_params["ws"]
                key = request.query_params.get("token") if query_token else None
                if query_token and not key:
                    raise ApiError(401, "unauthorized", "Missing token query parameter")
                self._authenticate(request, workspace_id, permission, key)
                if workspace_id not in self.model.workspaces:
                    raise ApiError(404, "not_found", f"Workspace {workspace_id} not found")
                await request.body()  # read before locking: the handler then never waits while holding it
                with self.model.lock:
                    result = await handler(request, workspace_id)
                if isinstance(result, Response):
                    return result
                return JSONResponse(result)
            except ApiError as error:
                return error.response()
            except Conflict as error:
                return ApiError(409, "conflict", str(error)).response()
            except (KeyError, ValueError, TypeError) as error:
                message = error.args[0] if error.args and isinstance(error.args[0], str) else str(error)
                status = 404 if isinstance(error, KeyError) else 400
                return ApiError(status, "not_found" if status == 404 else "bad_request", message).response()

        return endpoint

    @staticmethod
    async def _json(request: Request) -> Any:
        raw = await request.body()
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, "bad_request", f"Malformed JSON body: {exc}")

    def _process(self, workspace_id: str, process_id: str) -> Process:
        process = self.model.process(workspace_id, process_id)
        if process is None:
            raise ApiError(404, "not_found", f"Process {process_id} not found in workspace {workspace_id}")
        return process

    def _run(self, workspace_id: str, run_id: str, process_id: str | None = None) -> Run:
        run = self.model.run(workspace_id, run_id)
        if run is None or (process_id is not None and run.process_id != process_id):
            raise ApiError(404, "not_found", f"Process run {run_id} not found")
        return run

    def _item(self, workspace_id: str, item_id: str, process_id: str | None = None) -> WorkItem:
        item = self.model.item(workspace_id, item_id)
        if item is None or (process_id is not None and item.process_id != process_id):
            raise ApiError(404, "not_found", f"Work item {item_id} not found")
        return item

    def _step(self, workspace_id: str, step_run_id: str, run_id: str | None = None) -> StepRun:
        step = self.model.step_run(workspace_id, step_run_id)
        if step is None or (run_id is not None and step.run_id != run_id):
            raise ApiError(404, "not_found", f"Step run {step_run_id} not found")
        return step

    # -- serialisation ----------------------------------------------------------------------------
    def run_json(self, run: Run, now: float) -> dict[str, Any]:
        process = self.model.processes[run.process_id]
        state = self.model.run_state(run, now)
        steps = self.model.visible_steps(run, now)
        started = min((s.start for s in steps), default=None)
        ended = run.finish() if state in ("completed", "unresolved") else None
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

    def legacy_run_json(self, run: Run, now: float) -> dict[str, Any]:
        current = self.run_json(run, now)
        state = current["state"]
        items = [self.model.items[i].at(now).state for i in run.item_ids]
        failed = next(
            (s for s in reversed(self.model.visible_steps(run, now)) if s.state(now) in ("failed", "terminated")),
            None,
        )
        error_code = None
        if state == "unresolved":
            error_code = failed.error["code"] if failed and failed.error else "WORK_ITEM_FAILURES"
        return {
            "id": run.id,
            "processId": run.process_id,
            "runNo": run.number,
            "state": LEGACY_RUN_STATE[state],
            "result": None if state not in ("completed", "unresolved") else ("ok" if state == "completed" else "err"),
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

    def step_json(self, step: StepRun, now: float) -> dict[str, Any]:
        state = step.state(now)
        ended = step.end if state != "in_progress" else None
        return {
            "id": step.id,
            "state": state,
            "step": {
                "id": demo_id(f"step/{step.run_id}/{step.index}"),
                "name": step.name,
                "index": step.index,
            },
            "process_run": {"id": step.run_id},
            "started_at": self.clock.iso(step.start),
            "ended_at": self.clock.iso(ended),
            "duration": round((ended if ended is not None else now) - step.start, 3),
            "error": step.error if state in ("failed", "terminated") else None,
            "work_item_count": len(step.item_ids),
        }

    def legacy_step_json(self, step: StepRun, now: float) -> dict[str, Any]:
        current = self.step_json(step, now)
        state = current["state"]
        return {
            "id": step.id,
            "processRunId": step.run_id,
            "activityName": step.name,
            "stepNo": step.index + 1,
            "state": LEGACY_STEP_STATE[state],
            "result": None if state == "in_progress" else ("ok" if state == "completed" else "err"),
            "errorCode": step.error["code"] if step.error and state != "in_progress" else None,
            "startTs": current["started_at"],
            "endTs": current["ended_at"],
            "duration": current["duration"],
        }

    def item_json(self, item: WorkItem, now: float, include_data: bool = True) -> dict[str, Any]:
        event = item.at(now)
        process = self.model.processes[item.process_id]
        data: dict[str, Any] = {
            "id": item.id,
            "state": event.state,
            "process": {"id": process.id, "name": process.name},
            "process_run": {"id": item.run_id} if item.run_id else None,
            "step_run": {"id": event.step_run_id} if event.step_run_id else None,
            "created_at": self.clock.iso(item.created),
            "state_updated_at": self.clock.iso(event.at),
            "exception": event.exception if event.state == "failed" else None,
            "files": [
                {"id": demo_id(f"file/{item.id}/{name}"), "name": name, "size": len(content)}
                for name, content in item.files.items()
            ],
        }
        if include_data:
            data["payload"] = item.payload
        return data

    def legacy_item_json(self, item: WorkItem, now: float, include_data: bool) -> dict[str, Any]:
        event = item.at(now)
        data: dict[str, Any] = {
            "id": item.id,
            "state": LEGACY_ITEM_STATE[event.state],
            "processId": item.process_id,
            "processRunId": item.run_id,
            "activityRunId": event.step_run_id,
            "createTs": self.clock.iso(item.created),
            "exception": event.exception if event.state == "failed" else None,
        }
        if include_data:
            data["payload"] = item.payload
            data["files"] = [
                {"id": demo_id(f"file/{item.id}/{name}"), "fileName": name, "fileSize": len(content)}
                for name, content in item.files.items()
            ]
        return data

    def process_json(self, process: Process) -> dict[str, Any]:
        return {
            "id": process.id,
            "name": process.name,
            "created_at": self.clock.iso(process.created),
            "steps": [{"id": demo_id(f"step/{process.id}/{i}"), "name": name} for i, name in enumerate(process.steps)],
        }

    # -- paging -----------------------------------------------------------------------------------
    @staticmethod
    def _limit(request: Request, default: int = 20, maximum: int = 100) -> int:
        raw = request.query_params.get("limit")
        try:
            value = int(float(raw)) if raw not in (None, "") else default
        except ValueError:
            raise ApiError(400, "bad_request", f"limit must be a number, not {raw!r}")
        if value < 1:
            raise ApiError(400, "bad_request", "limit must be at least 1")
        return min(value, maximum)

    def _page(self, request: Request, rows: list[Any], render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        """One page of ``rows`` (already in order): ``{"data", "has_more", "next"}`` with a cursor URL."""
        limit = self._limit(request)
        cursor = request.query_params.get("cursor")
        start = 0
        if cursor:
            try:
                start = int(base64.urlsafe_b64decode(cursor.encode()).decode())
            except ValueError:
                raise ApiError(400, "bad_request", "Invalid cursor")
        chunk = rows[start : start + limit]
        more = start + limit < len(rows)
        next_url = None
        if more:
            token = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
            next_url = str(request.url.include_query_params(cursor=token, limit=limit))
        return {"data": [render(row) for row in chunk], "has_more": more, "next": next_url}

    @staticmethod
    def _newest_first(rows: Iterable[Any]) -> list[Any]:
        return sorted(rows, key=lambda row: -row.seq)

    # -- current API ------------------------------------------------------------------------------
    async def list_processes(self, request: Request, ws: str) -> Any:
        rows = sorted((p for p in self.model.processes.values() if p.workspace_id == ws), key=lambda p: p.name)
        return self._page(request, rows, self.process_json)

    async def get_process(self, request: Request, ws: str) -> Any:
        return self.process_json(self._process(ws, request.path_params["pid"]))

    def _start_response(self, run: Run) -> dict[str, Any]:
        return {"id": run.id, "work_item_ids": list(run.item_ids)}

    async def start_run(self, request: Request, ws: str) -> Any:
        process = self._process(ws, request.path_params["pid"])
        body = await self._json(request)
        if body is None:
            run = self.model.trigger(process)
        elif not isinstance(body, dict):
            raise ApiError(400, "bad_request", "The body must be a JSON object with a 'type'")
        elif body.get("type") == "with_payloads":
            payloads = body.get("payloads")
            if not isinstance(payloads, list) or not payloads:
                raise ApiError(400, "bad_request", "'payloads' must be a non-empty list of work item payloads")
            run = self.model.trigger(process, payloads)
        elif body.get("type") in ("with_item_ids", "with_work_item_ids"):
            ids = body.get("work_item_ids")
            if not isinstance(ids, list) or not ids:
                raise ApiError(400, "bad_request", "'work_item_ids' must be a non-empty list of work item ids")
            run = self.model.trigger(process, item_ids=[str(i) for i in ids])
        elif body.get("type") in ("with_default_work_item", "default"):
            run = self.model.trigger(process)
        else:
            raise ApiError(400, "bad_request", f"Unknown type {body.get('type')!r}; use with_payloads or with_item_ids")
        self._ensure_watcher()
        return self._start_response(run)

    async def start_run_integration(self, request: Request, ws: str) -> Any:
        process = self._process(ws, request.path_params["pid"])
        body = await self._json(request)
        run = self.model.trigger(process, [body if body is not None else {}])
        self._ensure_watcher()
        return self._start_response(run)

    async def list_runs(self, request: Request, ws: str) -> Any:
        process_id = request.query_params.get("process_id")
        state = request.query_params.get("state")
        if state and state not in RUN_STATES:
            raise ApiError(400, "bad_request", f"Unknown state {state!r}; use one of {', '.join(RUN_STATES)}")
        if process_id:
            self._process(ws, process_id)
        now = self.clock.now()
        rows = [
            r
            for r in self._newest_first(self.model.runs.values())
            if r.workspace_id == ws
            and (not process_id or r.process_id == process_id)
            and (not state or self.model.run_state(r, now) == state)
        ]
        return self._page(request, rows, lambda r: self.run_json(r, now))

    async def get_run(self, request: Request, ws: str) -> Any:
        return self.run_json(self._run(ws, request.path_params["rid"]), self.clock.now())

    async def delete_run(self, request: Request, ws: str) -> Any:
        run = self._run(ws, request.path_params["rid"])
        state = self.model.run_state(run, self.clock.now())
        if state not in ("completed", "unresolved"):
            raise Conflict(f"Process run {run.id} is {state}; stop it before deleting it")
        for step in run.step_runs:
            self.model.step_runs.pop(step.id, None)
        del self.model.runs[run.id]
        return {"id": run.id, "deleted": True}

    async def stop_run(self, request: Request, ws: str) -> Any:
        run = self._run(ws, request.path_params["rid"])
        body = await self._json(request) or {}
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "The body must be a JSON object")
        for name in ("set_remaining_work_items_as_done", "terminate_ongoing_activity_runs"):
            if not isinstance(body.get(name), bool):
                raise ApiError(400, "bad_request", f"'{name}' is required and must be true or false")
        self.model.stop(
            run,
            body["set_remaining_work_items_as_done"],
            body["terminate_ongoing_activity_runs"],
            str(body.get("reason") or ""),
        )
        return self.run_json(run, self.clock.now())

    async def list_step_runs(self, request: Request, ws: str) -> Any:
        run_id = request.query_params.get("process_run_id")
        if not run_id:
            raise ApiError(400, "bad_request", "The process_run_id query parameter is required")
        run = self._run(ws, run_id)
        now = self.clock.now()
        return self._page(request, self.model.visible_steps(run, now), lambda s: self.step_json(s, now))

    async def get_step_run(self, request: Request, ws: str) -> Any:
        return self.step_json(self._step(ws, request.path_params["sid"]), self.clock.now())

    def _artifact_rows(self, step: StepRun) -> list[Artifact]:
        if step.state(self.clock.now()) == "in_progress":
            return []
        for artifact in step.artifacts:
            self._artifacts[artifact.id] = artifact
        return list(step.artifacts)

    async def list_artifacts(self, request: Request, ws: str) -> Any:
        step = self._step(ws, request.path_params["sid"])
        return self._page(
            request,
            self._artifact_rows(step),
            lambda a: {"id": a.id, "file_name": a.name, "file_size": len(a.content)},
        )

    def _artifact(self, step: StepRun, artifact_id: str) -> Artifact:
        artifact = next((a for a in self._artifact_rows(step) if a.id == artifact_id), None)
        if artifact is None:
            raise ApiError(404, "not_found", f"Artifact {artifact_id} not found")
        return artifact

    def _sign(self, request: Request, artifact: Artifact) -> str:
        signature = secrets.token_hex(20)
        self.ctx.remember_secret(signature)
        self._signed[signature] = (artifact.id, time.time() + self.url_ttl)
        base = str(request.base_url).rstrip("/")
        return (
            f"{base}/controlroom/_files/{artifact.id}/{artifact.name}?X-Amz-Expires={int(self.url_ttl)}"
            f"&X-Amz-Signature={signature}"
        )

    async def get_artifact(self, request: Request, ws: str) -> Any:
        step = self._step(ws, request.path_params["sid"])
        artifact = self._artifact(step, request.path_params["aid"])
        return {
            "id": artifact.id,
            "file_name": artifact.name,
            "file_size": len(artifact.content),
            "url": self._sign(request, artifact),
        }

    async def list_work_items(self, request: Request, ws: str) -> Any:
        params = request.query_params
        state = params.get("state")
        if state and state not in WORK_ITEM_STATES:
            raise ApiError(400, "bad_request", f"Unknown state {state!r}; use one of {', '.join(WORK_ITEM_STATES)}")
        if params.get("process_id"):
            self._process(ws, params["process_id"])
        include = params.get("include_data", "false").lower() == "true"
        now = self.clock.now()
        rows = [
            i
            for i in self._newest_first(self.model.items.values())
            if i.workspace_id == ws
            and (not params.get("process_id") or i.process_id == params["process_id"])
            and (not params.get("process_run_id") or i.run_id == params["process_run_id"])
            and (not state or i.at(now).state == state)
        ]
        return self._page(request, rows, lambda i: self.item_json(i, now, include))

    async def get_work_item(self, request: Request, ws: str) -> Any:
        return self.item_json(self._item(ws, request.path_params["wid"]), self.clock.now())

    async def create_work_item(self, request: Request, ws: str) -> Any:
        body = await self._json(request)
        if not isinstance(body, dict) or not isinstance(body.get("process"), dict) or "id" not in body["process"]:
            raise ApiError(400, "bad_request", 'The body must be {"process": {"id": ...}, "payload": {...}}')
        process = self._process(ws, str(body["process"]["id"]))
        item = self.model.create_item(process, body.get("payload"))
        return self.item_json(item, self.clock.now())

    def _upload_slot(self, request: Request, item: WorkItem, name: Any, size: Any) -> dict[str, Any]:
        if not isinstance(name, str) or not name or "/" in name or not isinstance(size, int) or size < 0:
            raise ApiError(400, "bad_request", "A file name (without folders) and a size in bytes are required")
        if item.at(self.clock.now()).state not in ("new", "pending"):
            raise Conflict(f"Files can only be added to work items that are new or pending, not {item.id}")
        policy = secrets.token_hex(20)
        self.ctx.remember_secret(policy)
        self._uploads[policy] = (item.id, name, size, time.time() + self.url_ttl)
        base = str(request.base_url).rstrip("/")
        return {
            "url": f"{base}/controlroom/_uploads",
            "fields": {"key": f"{item.id}/{name}", "policy": policy},
        }

    async def upload_file(self, request: Request, ws: str) -> Any:
        item = self._item(ws, request.path_params["wid"])
        body = await self._json(request) or {}
        return self._upload_slot(request, item, body.get("file_name"), body.get("file_size"))

    async def batch_work_items(self, request: Request, ws: str) -> Any:
        body = await self._json(request)
        if not isinstance(body, dict) or body.get("batch_operation") != "retry":
            raise ApiError(400, "bad_request", "batch_operation must be 'retry'")
        ids = body.get("work_item_ids")
        if not isinstance(ids, list) or not ids:
            raise ApiError(400, "bad_request", "'work_item_ids' must be a non-empty list")
        items = [self._item(ws, str(i)) for i in ids]
        self.model.retry(items)
        self._ensure_watcher()
        return {"batch_operation": "retry", "work_item_ids": [item.id for item in items]}

    # -- legacy process-v1 API --------------------------------------------------------------------
    async def legacy_processes(self, request: Request, ws: str) -> Any:
        rows = sorted((p for p in self.model.processes.values() if p.workspace_id == ws), key=lambda p: p.name)
        return {"data": [{"id": p.id, "name": p.name, "createTs": self.clock.iso(p.created)} for p in rows]}

    async def legacy_start(self, request: Request, ws: str) -> Any:
        process = self._process(ws, request.path_params["pid"])
        body = await self._json(request)
        # rpaframework sends [] when there is no payload: that is one empty work item.
        payload = {} if body in (None, []) else body
        run = self.model.trigger(process, [payload])
        self._ensure_watcher()
        return {"id": run.id, "workItemIds": list(run.item_ids)}

    async def legacy_start_batch(self, request: Request, ws: str) -> Any:
        process = self._process(ws, request.path_params["pid"])
        body = await self._json(request)
        if not isinstance(body, list) or not body:
            raise ApiError(400, "bad_request", "runs-batch needs a non-empty JSON list of work item payloads")
        runs = [self.model.trigger(process, [payload]) for payload in body]
        self._ensure_watcher()
        return [{"id": run.id, "workItemIds": list(run.item_ids)} for run in runs]

    async def legacy_run_request(self, request: Request, ws: str) -> Any:
        process = self._process(ws, request.path_params["pid"])
        body = await self._json(request) or {}
        if body.get("type") == "workItemIds":
            ids = body.get("workItemIds")
            if not isinstance(ids, list) or not ids:
                raise ApiError(400, "bad_request", "workItemIds must be a non-empty list")
            run = self.model.trigger(process, item_ids=[str(i) for i in ids])
        elif body.get("type") == "default":
            run = self.model.trigger(process)
        else:
            raise ApiError(400, "bad_request", f"Unknown run request type {body.get('type')!r}")
        self._ensure_watcher()
        return {"id": run.id, "workItemIds": list(run.item_ids)}

    async def legacy_runs(self, request: Request, ws: str) -> Any:
        process = self._process(ws, request.path_params["pid"])
        now = self.clock.now()
        rows = [r for r in self._newest_first(self.model.runs.values()) if r.process_id == process.id]
        return {"data": [self.legacy_run_json(r, now) for r in rows[: self._limit(request, 10, 1000)]]}

    async def legacy_pruns(self, request: Request, ws: str) -> Any:
        now = self.clock.now()
        rows = [r for r in self._newest_first(self.model.runs.values()) if r.workspace_id == ws]
        return [self.legacy_run_json(r, now) for r in rows[: self._limit(request, 10, 1000)]]

    async def legacy_run(self, request: Request, ws: str) -> Any:
        run = self._run(ws, request.path_params["rid"], request.path_params["pid"])
        return self.legacy_run_json(run, self.clock.now())

    async def legacy_robot_runs(self, request: Request, ws: str) -> Any:
        run = self._run(ws, request.path_params["rid"], request.path_params["pid"])
        now = self.clock.now()
        return {"data": [self.legacy_step_json(s, now) for s in self.model.visible_steps(run, now)]}

    async def legacy_robot_run(self, request: Request, ws: str) -> Any:
        run = self._run(ws, request.path_params["rid"], request.path_params["pid"])
        return self.legacy_step_json(self._step(ws, request.path_params["sid"], run.id), self.clock.now())

    async def legacy_artifacts(self, request: Request, ws: str) -> Any:
        run = self._run(ws, request.path_params["rid"], request.path_params["pid"])
        step = self._step(ws, request.path_params["sid"], run.id)
        return [{"id": a.id, "fileName": a.name, "fileSize": len(a.content)} for a in self._artifact_rows(step)]

    async def legacy_artifact(self, request: Request, ws: str) -> Any:
        run = self._run(ws, request.path_params["rid"], request.path_params["pid"])
        step = self._step(ws, request.path_params["sid"], run.id)
        artifact = self._artifact(step, request.path_params["aid"])
        if artifact.name != request.path_params["name"]:
            raise ApiError(404, "not_found", f"Artifact {artifact.id} has no file {request.path_params['name']!r}")
        return JSONResponse(self._sign(request, artifact))  # a bare JSON string, as the real API answers

    async def legacy_work_items(self, request: Request, ws: str) -> Any:
        process = self._process(ws, request.path_params["pid"])
        include = request.query_params.get("includeData", "false").lower() == "true"
        now = self.clock.now()
        rows = [i for i in self._newest_first(self.model.items.values()) if i.process_id == process.id]
        return {"data": [self.legacy_item_json(i, now, include) for i in rows[: self._limit(request, 100, 1000)]]}

    async def legacy_run_work_items(self, request: Request, ws: str) -> Any:
        run = self._run(ws, request.path_params["rid"], request.path_params["pid"])
        include = request.query_params.get("includeData", "false").lower() == "true"
        now = self.clock.now()
        rows = self._newest_first(self.model.items[i] for i in run.item_ids)
        return {"data": [self.legacy_item_json(i, now, include) for i in rows]}

    async def legacy_work_item(self, request: Request, ws: str) -> Any:
        item = self._item(ws, request.path_params["wid"], request.path_params["pid"])
        include = request.query_params.get("includeData", "false").lower() == "true"
        return self.legacy_item_json(item, self.clock.now(), include)

    async def legacy_create_work_item(self, request: Request, ws: str) -> Any:
        process = self._process(ws, request.path_params["pid"])
        body = await self._json(request)
        payload = body.get("payload", {}) if isinstance(body, dict) else None
        if payload is None:
            raise ApiError(400, "bad_request", 'The body must be {"payload": {...}}')
        item = self.model.create_item(process, payload)
        return {"id": item.id, "state": LEGACY_ITEM_STATE["new"]}

    async def legacy_upload_file(self, request: Request, ws: str) -> Any:
        item = self._item(ws, request.path_params["wid"], request.path_params["pid"])
        body = await self._json(request) or {}
        return self._upload_slot(request, item, body.get("fileName"), body.get("fileSize"))

    async def legacy_retry(self, request: Request, ws: str) -> Any:
        item = self._item(ws, request.path_params["wid"], request.path_params["pid"])
        self.model.retry([item])
        self._ensure_watcher()
        return {"id": item.id, "state": LEGACY_ITEM_STATE["pending"]}

    # -- pre-signed transfers (no API key, like S3) ---------------------------------------------------
    async def download(self, request: Request) -> Response:
        signature = request.query_params.get("X-Amz-Signature", "")
        entry = self._signed.get(signature)
        artifact = self._artifacts.get(request.path_params["aid"])
        if entry is None or artifact is None or entry[0] != artifact.id:
            return _s3_error(403, "AccessDenied", "The request signature does not match")
        if time.time() > entry[1]:
            return _s3_error(403, "AccessDenied", "Request has expired")
        return Response(
            artifact.content,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{artifact.name}"'},
        )

    async def upload(self, request: Request) -> Response:
        form = await request.form()
        policy = str(form.get("policy") or "")
        slot = self._uploads.pop(policy, None)
        upload = form.get("file")
        if slot is None or not hasattr(upload, "read"):
            return _s3_error(403, "AccessDenied", "Invalid or already used upload policy")
        item_id, name, size, expires = slot
        if time.time() > expires:
            return _s3_error(403, "AccessDenied", "Request has expired")
        content = await upload.read()  # type: ignore[union-attr]
        if str(form.get("key")) != f"{item_id}/{name}":
            return _s3_error(403, "AccessDenied", "The key does not match the upload policy")
        if len(content) != size:
            return _s3_error(
                400,
                "EntityTooLarge" if len(content) > size else "IncompleteBody",
                f"Expected {size} bytes, got {len(content)}",
            )
        with self.model.lock:
            self.model.items[item_id].files[name] = content
        return Response(status_code=204)

    async def run_page(self, request: Request) -> Response:
        run = self.model.runs.get(request.path_params["rid"])
        if run is None or run.workspace_id != request.path_params["ws"]:
            return HTMLResponse("<h1>Process run not found</h1>", 404)
        now = self.clock.now()
        data = self.run_json(run, now)
        steps = "".join(
            f"<li>{html.escape(s.name)}: {s.state(now)}"
            f"{' - ' + html.escape(s.error['message']) if s.error and s.state(now) != 'in_progress' else ''}"
            f"</li>"
            for s in self.model.visible_steps(run, now)
        )
        return HTMLResponse(
            f"<h1>{html.escape(data['process']['name'])} run #{run.number}</h1>"
            f"<p>State: {data['state']}</p><ul>{steps}</ul>"
        )

    # -- webhooks ---------------------------------------------------------------------------------
    def _ensure_watcher(self) -> None:
        if not self._watcher_started:
            self._watcher_started = True
            threading.Thread(target=self._watch, name="controlroom-webhooks", daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(0.2)
            try:
                self._emit_finished()
            except Exception:  # the watcher must outlive a reset racing with it
                log.exception("Control Room webhook watcher")

    def _emit_finished(self) -> None:
        with self.model.lock:
            now = self.clock.now()
            for run in list(self.model.runs.values()):
                state = self.model.run_state(run, now)
                marker = f"{run.id}:{state}:{run.finish()}"
                if state not in ("completed", "unresolved") or marker in self._notified or run.created < 0:
                    continue
                self._notified.add(marker)
                event = {
                    "id": str(uuid.uuid4()),
                    "webhookEventTimestamp": self.clock.iso(now),
                    "event": "process_run_state_changed",
                    "payload": {"workspace_id": run.workspace_id, "process_run": self.run_json(run, now)},
                }
                body = json.dumps(event, separators=(",", ":")).encode()
                signature = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
                self.webhook_events.append({"body": body.decode(), "signature": signature})
                del self.webhook_events[:-200]
                if self.webhook_url:
                    self.ctx.deliver(
                        self.webhook_url,
                        body,
                        {"Content-Type": "application/json", "x-rc-signature": signature},
                    )

    # -- admin --------------------------------------------------------------------------------------
    async def admin_config(self, request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        if "rate_limit" in body or "burst" in body:
            self.rate = float(body.get("rate_limit", self.rate))
            self.burst = int(body.get("burst", self.burst))
            self.bucket = ServerBucket(self.ctx.scaled(self.rate), max(1, round(self.ctx.scaled(self.burst))))
        if "url_ttl" in body:
            self.url_ttl = float(body["url_ttl"])
        if "webhook_url" in body:
            self.webhook_url = body["webhook_url"] or None
            self._ensure_watcher()
        return JSONResponse(
            {
                "rate_limit": self.rate,
                "burst": self.burst,
                "url_ttl": self.url_ttl,
                "webhook_url": self.webhook_url,
            }
        )

    async def admin_add_process(self, request: Request) -> Response:
        """Register a process; with ``command`` (argv) or ``robot_yaml`` + ``task`` each run executes it."""
        body = json.loads(await request.body() or b"{}")
        command = body.get("command")
        cwd = body.get("cwd")
        if body.get("robot_yaml"):
            command, cwd = _robot_task_command(Path(body["robot_yaml"]), str(body.get("task", "")))
        with self.model.lock:
            process = self.model.add_process(
                body.get("workspace_id", WORKSPACE_ID),
                str(body["name"]),
                list(body.get("steps") or ["Run robot"]),
                command=command,
                cwd=cwd,
                env={str(k): str(v) for k, v in (body.get("env") or {}).items()},
            )
        return JSONResponse(self.process_json(process))

    async def admin_webhook_events(self, request: Request) -> Response:
        self._emit_finished()
        return JSONResponse(list(self.webhook_events))

    # -- routing ------------------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        cur = "/api/v1/workspaces/{ws}"
        leg = "/process-v1/workspaces/{ws}"
        lp = leg + "/processes/{pid}"
        api = self._api
        return [
            Route(cur + "/processes", api(READ_PROCESSES, self.list_processes), methods=["GET"]),
            Route(cur + "/processes/{pid}", api(READ_PROCESSES, self.get_process), methods=["GET"]),
            Route(
                cur + "/processes/{pid}/process-runs",
                api(TRIGGER_PROCESSES, self.start_run),
                methods=["POST"],
            ),
            Route(
                cur + "/processes/{pid}/process-runs-integrations",
                api(TRIGGER_PROCESSES, self.start_run_integration, query_token=True),
                methods=["POST"],
            ),
            Route(cur + "/process-runs", api(READ_RUNS, self.list_runs), methods=["GET"]),
            Route(cur + "/process-runs/{rid}", api(READ_RUNS, self.get_run), methods=["GET"]),
            Route(cur + "/process-runs/{rid}", api(WRITE_RUNS, self.delete_run), methods=["DELETE"]),
            Route(cur + "/process-runs/{rid}/stop", api(WRITE_RUNS, self.stop_run), methods=["POST"]),
            Route(cur + "/step-runs", api(READ_RUNS, self.list_step_runs), methods=["GET"]),
            Route(cur + "/step-runs/{sid}", api(READ_RUNS, self.get_step_run), methods=["GET"]),
            Route(
                cur + "/step-runs/{sid}/artifacts",
                api(READ_RUN_OUTPUTS, self.list_artifacts),
                methods=["GET"],
            ),
            Route(
                cur + "/step-runs/{sid}/artifacts/{aid}",
                api(READ_RUN_OUTPUTS, self.get_artifact),
                methods=["GET"],
            ),
            Route(cur + "/work-items", api(READ_WORK_ITEMS, self.list_work_items), methods=["GET"]),
            Route(cur + "/work-items", api(WRITE_WORK_ITEMS, self.create_work_item), methods=["POST"]),
            Route(cur + "/work-items/batch", api(WRITE_WORK_ITEMS, self.batch_work_items), methods=["POST"]),
            Route(cur + "/work-items/{wid}", api(READ_WORK_ITEMS, self.get_work_item), methods=["GET"]),
            Route(
                cur + "/work-items/{wid}/files/upload",
                api(WRITE_WORK_ITEMS, self.upload_file),
                methods=["POST"],
            ),
            Route(leg + "/processes", api(READ_PROCESSES, self.legacy_processes), methods=["GET"]),
            Route(leg + "/pruns", api(READ_RUNS, self.legacy_pruns), methods=["GET"]),
            Route(lp + "/runs", api(TRIGGER_PROCESSES, self.legacy_start), methods=["POST"]),
            Route(lp + "/runs", api(READ_RUNS, self.legacy_runs), methods=["GET"]),
            Route(lp + "/runs-batch", api(TRIGGER_PROCESSES, self.legacy_start_batch), methods=["POST"]),
            Route(lp + "/run-request", api(TRIGGER_PROCESSES, self.legacy_run_request), methods=["POST"]),
            Route(lp + "/runs/{rid}", api(READ_RUNS, self.legacy_run), methods=["GET"]),
            Route(lp + "/runs/{rid}/robotRuns", api(READ_RUNS, self.legacy_robot_runs), methods=["GET"]),
            Route(lp + "/runs/{rid}/robotRuns/{sid}", api(READ_RUNS, self.legacy_robot_run), methods=["GET"]),
            Route(
                lp + "/runs/{rid}/robotRuns/{sid}/artifacts",
                api(READ_RUN_OUTPUTS, self.legacy_artifacts),
                methods=["GET"],
            ),
            Route(
                lp + "/runs/{rid}/robotRuns/{sid}/artifacts/{aid}/{name}",
                api(READ_RUN_OUTPUTS, self.legacy_artifact),
                methods=["GET"],
            ),
            Route(
                lp + "/runs/{rid}/work-items",
                api(READ_WORK_ITEMS, self.legacy_run_work_items),
                methods=["GET"],
            ),
            Route(lp + "/work-items", api(READ_WORK_ITEMS, self.legacy_work_items), methods=["GET"]),
            Route(lp + "/work-items", api(WRITE_WORK_ITEMS, self.legacy_create_work_item), methods=["POST"]),
            Route(lp + "/work-items/{wid}", api(READ_WORK_ITEMS, self.legacy_work_item), methods=["GET"]),
            Route(
                lp + "/work-items/{wid}/files/upload",
                api(WRITE_WORK_ITEMS, self.legacy_upload_file),
                methods=["POST"],
            ),
            Route(lp + "/work-items/{wid}/retry", api(WRITE_WORK_ITEMS, self.legacy_retry), methods=["POST"]),
            Route("/_files/{aid}/{name}", self.download, methods=["GET"]),
            Route("/_uploads", self.upload, methods=["POST"]),
            Route("/{org}/{ws}/processes/runs/{rid}", self.run_page, methods=["GET"]),
            Route("/{ws}/processes/runs/{rid}", self.run_page, methods=["GET"]),
        ]

    def admin_routes(self) -> list[BaseRoute]:
        return [
            Route("/config", self.admin_config, methods=["POST"]),
            Route("/processes", self.admin_add_process, methods=["POST"]),
            Route("/webhook-events", self.admin_webhook_events, methods=["GET"]),
        ]


def _s3_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message>'
    body += "</Error>"
    return Response(body, status_code=status, media_type="application/xml")


def _robot_task_command(robot_yaml: Path, task: str) -> tuple[list[str], str]:
    """The argv of a robot.yaml task, run the way rcc would from the robot's folder."""
    import sys

    import yaml  # type: ignore[import-untyped]

    spec = (yaml.safe_load(robot_yaml.read_text()) or {}).get("tasks", {}).get(task)
    if spec is None:
        raise ValueError(f"robot.yaml has no task {task!r}")
    if "command" in spec:
        command = [str(part) for part in spec["command"]]
    elif "shell" in spec:
        command = shlex.split(spec["shell"])
    else:
        command = ["python", "-m", "robot", "--report", "NONE", "--task", spec["robotTaskName"], "."]
    return [sys.executable if part == "python" else part for part in command], str(robot_yaml.parent)


def create(ctx: SandboxContext) -> ControlRoomSandbox:
    return ControlRoomSandbox(ctx)
