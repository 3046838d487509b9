"""The legacy ``/process-v1/workspaces/{ws}/…`` API: the shapes rpaframework's ``RPA.Robocorp.Process`` reads.

camelCase fields, ``{"data": [...]}`` lists (bare lists for ``pruns`` and artifacts), run states
``INI`` / ``IP`` / ``COMPL`` with ``result`` ``ok`` / ``err`` and ``errorCode``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from connectors_sandbox.controlroom.access import bad_request, not_found
from connectors_sandbox.controlroom.model import Conflict, check_payload
from connectors_sandbox.controlroom.paging import limit_of, newest_first
from connectors_sandbox.controlroom.render import LEGACY_ITEM_STATE

if TYPE_CHECKING:
    from connectors_sandbox.controlroom.emulator import ControlRoomSandbox


class LegacyApi:
    def __init__(self, sandbox: ControlRoomSandbox) -> None:
        self.sb = sandbox

    def routes(self) -> list[tuple[str, str, str, Any]]:
        """(method, path under /process-v1/workspaces/{ws}, the current-API operation whose permission it
        needs, handler): the legacy API has no spec, so each route is checked as its current equivalent."""
        p = "/processes/{pid}"
        return [
            ("GET", "/processes", "listProcesses", self.processes),
            ("GET", "/pruns", "listProcessRuns", self.pruns),
            ("POST", p + "/runs", "startProcessRun", self.start),
            ("GET", p + "/runs", "listProcessRuns", self.runs),
            ("POST", p + "/runs-batch", "startProcessRun", self.start_batch),
            ("POST", p + "/run-request", "startProcessRun", self.run_request),
            ("GET", p + "/runs/{rid}", "getProcessRun", self.run),
            ("GET", p + "/runs/{rid}/robotRuns", "listStepRuns", self.robot_runs),
            ("GET", p + "/runs/{rid}/robotRuns/{sid}", "getStepRun", self.robot_run),
            ("GET", p + "/runs/{rid}/robotRuns/{sid}/artifacts", "listStepRunArtifacts", self.artifacts),
            ("GET", p + "/runs/{rid}/robotRuns/{sid}/artifacts/{aid}/{name}", "getStepRunArtifact", self.artifact),
            ("GET", p + "/runs/{rid}/work-items", "listWorkItems", self.run_work_items),
            ("GET", p + "/work-items", "listWorkItems", self.work_items),
            ("POST", p + "/work-items", "createWorkItem", self.create_work_item),
            ("GET", p + "/work-items/{wid}", "getWorkItem", self.work_item),
            ("POST", p + "/work-items/{wid}/files/upload", "createWorkItemFile", self.upload_file),
            ("POST", p + "/work-items/{wid}/retry", "runWorkItemBatchOperation", self.retry),
        ]

    @staticmethod
    def _include(request: Request) -> bool:
        return request.query_params.get("includeData", "false").lower() == "true"

    def _run_of(self, request: Request, ws: str) -> Any:
        run = self.sb.run(ws, request.path_params["rid"])
        if run.process_id != request.path_params["pid"]:
            raise not_found(f"Process run {run.id} not found")
        return run

    async def processes(self, request: Request, ws: str) -> Any:
        rows = sorted((p for p in self.sb.model.processes.values() if p.workspace_id == ws), key=lambda p: p.name)
        return {"data": [{"id": p.id, "name": p.name, "createTs": self.sb.clock.iso(p.created)} for p in rows]}

    def _started(self, run: Any) -> dict[str, Any]:
        self.sb.started(run)
        return {"id": run.id, "workItemIds": list(run.item_ids)}

    async def start(self, request: Request, ws: str) -> Any:
        process = self.sb.process(ws, request.path_params["pid"])
        body = await self.sb.json(request)
        # rpaframework sends [] when there is no payload: that is one empty work item.
        return self._started(self.sb.model.trigger(process, [{} if body in (None, []) else body]))

    async def start_batch(self, request: Request, ws: str) -> Any:
        process = self.sb.process(ws, request.path_params["pid"])
        body = await self.sb.json(request)
        if not isinstance(body, list) or not body:
            raise bad_request("runs-batch needs a non-empty JSON list of work item payloads")
        for payload in body:
            check_payload(payload)  # every one before any run starts
        return [self._started(self.sb.model.trigger(process, [payload])) for payload in body]

    async def run_request(self, request: Request, ws: str) -> Any:
        process = self.sb.process(ws, request.path_params["pid"])
        body = await self.sb.json(request) or {}
        if body.get("type") == "workItemIds":
            ids = body.get("workItemIds")
            if not isinstance(ids, list) or not ids:
                raise bad_request("workItemIds must be a non-empty list")
            return self._started(self.sb.model.trigger(process, item_ids=[str(i) for i in ids]))
        if body.get("type") == "default":
            return self._started(self.sb.model.trigger(process))
        raise bad_request(f"Unknown run request type {body.get('type')!r}")

    async def runs(self, request: Request, ws: str) -> Any:
        process = self.sb.process(ws, request.path_params["pid"])
        now = self.sb.clock.now()
        rows = [r for r in newest_first(self.sb.model.runs.values()) if r.process_id == process.id]
        return {"data": [self.sb.render.legacy_run(r, now) for r in rows[: limit_of(request, 10, 1000)]]}

    async def pruns(self, request: Request, ws: str) -> Any:
        now = self.sb.clock.now()
        rows = [r for r in newest_first(self.sb.model.runs.values()) if r.workspace_id == ws]
        return [self.sb.render.legacy_run(r, now) for r in rows[: limit_of(request, 10, 1000)]]

    async def run(self, request: Request, ws: str) -> Any:
        return self.sb.render.legacy_run(self._run_of(request, ws), self.sb.clock.now())

    async def robot_runs(self, request: Request, ws: str) -> Any:
        run = self._run_of(request, ws)
        now = self.sb.clock.now()
        return {"data": [self.sb.render.legacy_step(s, now) for s in self.sb.model.visible_steps(run, now)]}

    def _step_of(self, request: Request, ws: str) -> Any:
        run = self._run_of(request, ws)
        step = self.sb.step(ws, request.path_params["sid"])
        if step.run_id != run.id:
            raise not_found(f"Step run {step.id} not found")
        return step

    async def robot_run(self, request: Request, ws: str) -> Any:
        return self.sb.render.legacy_step(self._step_of(request, ws), self.sb.clock.now())

    async def artifacts(self, request: Request, ws: str) -> Any:
        step = self._step_of(request, ws)
        state = step.state(self.sb.clock.now())
        rows = step.artifacts if state in ("completed", "failed") else []
        return [{"id": a.id, "fileName": a.name, "fileSize": len(a.content)} for a in rows]

    async def artifact(self, request: Request, ws: str) -> Any:
        step = self._step_of(request, ws)
        artifact = self.sb.current.artifact(step, request.path_params["aid"])
        if artifact.name != request.path_params["name"]:
            raise not_found(f"Artifact {artifact.id} has no file {request.path_params['name']!r}")
        url = self.sb.storage.download_url(self.sb.base(request), artifact.name, lambda: artifact.content)
        return JSONResponse(url)  # a bare JSON string, as the real API answers

    async def work_items(self, request: Request, ws: str) -> Any:
        process = self.sb.process(ws, request.path_params["pid"])
        now = self.sb.clock.now()
        rows = [i for i in newest_first(self.sb.model.items.values()) if i.process_id == process.id]
        render = self.sb.render.legacy_item
        include = self._include(request)
        return {"data": [render(i, now, include) for i in rows[: limit_of(request, 100, 1000)]]}

    async def run_work_items(self, request: Request, ws: str) -> Any:
        run = self._run_of(request, ws)
        now = self.sb.clock.now()
        rows = newest_first(self.sb.model.items[i] for i in run.item_ids if i in self.sb.model.items)
        return {"data": [self.sb.render.legacy_item(i, now, self._include(request)) for i in rows]}

    async def work_item(self, request: Request, ws: str) -> Any:
        item = self.sb.item(ws, request.path_params["wid"])
        if item.process_id != request.path_params["pid"]:
            raise not_found(f"Work item {item.id} not found")
        return self.sb.render.legacy_item(item, self.sb.clock.now(), self._include(request))

    async def create_work_item(self, request: Request, ws: str) -> Any:
        process = self.sb.process(ws, request.path_params["pid"])
        body = await self.sb.json(request)
        payload = body.get("payload", {}) if isinstance(body, dict) else None
        if payload is None:
            raise bad_request('The body must be {"payload": {...}}')
        item = self.sb.model.create_item(process, payload)
        return {"id": item.id, "state": LEGACY_ITEM_STATE["new"]}

    async def upload_file(self, request: Request, ws: str) -> Any:
        item = self.sb.item(ws, request.path_params["wid"])
        body = await self.sb.json(request) or {}
        url, fields = self.sb.upload_slot(request, item, body.get("fileName"), body.get("fileSize"))
        return {"url": url, "fields": fields}

    async def retry(self, request: Request, ws: str) -> Any:
        item = self.sb.item(ws, request.path_params["wid"])
        if not self.sb.model.retry([item]):
            raise Conflict(f"Work item {item.id} is not failed; only failed work items can be retried")
        self.sb.webhooks.wake()
        return {"id": item.id, "state": LEGACY_ITEM_STATE["pending"]}
