"""The worker-side API a robot inside a Control Room run talks to (``RPA.Robocorp.WorkItems``' RobocorpAdapter).

- process host: ``/process-v1/workspaces/{ws}/processes/{pid}/runs/{rid}/robotRuns/{sid}/reserve-next-work-item``
  and ``…/release-work-item``, ``/process-v1/workspaces/{ws}/processes/{pid}/work-items/{parent}/output``;
- work-item host: ``/json-v1/workspaces/{ws}/workitems/{id}/data`` (GET, PUT) and ``…/files`` (list, add,
  get one as a pre-signed URL, delete).

Both take ``Authorization: Bearer <token>``: the per-execution tokens handed to the robot in
``RC_API_PROCESS_TOKEN`` / ``RC_API_WORKITEM_TOKEN``. A token opens only its own run's items.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors_sandbox.common import ApiError, bearer_token
from connectors_sandbox.controlroom.access import ERRORS, bad_request, not_found, refusal
from connectors_sandbox.controlroom.executions import Execution
from connectors_sandbox.controlroom.model import check_payload, stable_id

if TYPE_CHECKING:
    from connectors_sandbox.controlroom.emulator import ControlRoomSandbox

Handler = Callable[[Request, Execution], Awaitable[Any]]


class WorkerApi:
    def __init__(self, sandbox: ControlRoomSandbox) -> None:
        self.sb = sandbox

    def _guard(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                await request.body()
                with self.sb.model.lock:
                    execution = self.sb.executions.tokens.get(bearer_token(request) or "")
                    if execution is None:
                        raise refusal(401, "Invalid or expired robot run token")
                    params = request.path_params
                    run = execution.work.run
                    if params["ws"] != run.workspace_id or params.get("pid", run.process_id) != run.process_id:
                        raise refusal(403, "The token is not valid for this workspace or process")
                    if params.get("rid", run.id) != run.id or params.get("sid", execution.step_run.id) not in (
                        execution.step_run.id,
                    ):
                        raise refusal(403, "The token is not valid for this robot run")
                    result = await handler(request, execution)
                return result if isinstance(result, Response) else JSONResponse(result)
            except ApiError as error:
                return ERRORS.response(error)
            except KeyError as error:
                return ERRORS.response(not_found(str(error.args[0]) if error.args else "Not found"))
            except ValueError as error:  # a payload over the limit
                return ERRORS.response(bad_request(str(error)))

        return endpoint

    def _owned(self, execution: Execution, item_id: str) -> Any:
        """A work item (or output) of the execution's run, with ``payload`` and ``files``."""
        item = self.sb.model.items.get(item_id) or self.sb.executions.outputs.get(item_id)
        if item is None or item.run_id != execution.work.run.id:
            raise not_found(f"Work item {item_id} not found")
        return item

    # -- process host -------------------------------------------------------------------------------
    async def reserve(self, request: Request, execution: Execution) -> Any:
        return {"workItemId": self.sb.executions.reserve_next(execution)}

    async def release(self, request: Request, execution: Execution) -> Any:
        body = await self.sb.json(request)
        if not isinstance(body, dict) or not isinstance(body.get("workItemId"), str):
            raise bad_request('The body must be {"workItemId", "state": "COMPLETED" | "FAILED", "exception"?}')
        state = body.get("state")
        if state not in ("COMPLETED", "FAILED"):
            raise bad_request("state must be COMPLETED or FAILED")
        exception = body.get("exception")
        if exception is not None and not isinstance(exception, dict):
            raise bad_request("exception must be an object with type, code and message")
        self.sb.executions.release(execution, body["workItemId"], state, exception)
        return {"workItemId": body["workItemId"], "state": state}

    async def create_output(self, request: Request, execution: Execution) -> Any:
        body = await self.sb.json(request)
        payload = body.get("payload") if isinstance(body, dict) else None
        return {"id": self.sb.executions.create_output(execution, request.path_params["wid"], payload)}

    # -- work-item host -----------------------------------------------------------------------------
    async def get_data(self, request: Request, execution: Execution) -> Any:
        return JSONResponse(self._owned(execution, request.path_params["wid"]).payload)

    async def put_data(self, request: Request, execution: Execution) -> Any:
        item = self._owned(execution, request.path_params["wid"])
        payload = await self.sb.json(request)
        check_payload(payload)
        item.payload = payload
        return JSONResponse(item.payload)

    async def list_files(self, request: Request, execution: Execution) -> Any:
        item = self._owned(execution, request.path_params["wid"])
        return [
            {"fileId": stable_id(f"file/{item.id}/{name}"), "fileName": name, "fileSize": len(content)}
            for name, content in item.files.items()
        ]

    def _file_name(self, item: Any, file_id: str) -> str:
        name = next((n for n in item.files if stable_id(f"file/{item.id}/{n}") == file_id), None)
        if name is None:
            raise not_found(f"File {file_id} not found")
        return name

    async def get_file(self, request: Request, execution: Execution) -> Any:
        item = self._owned(execution, request.path_params["wid"])
        name = self._file_name(item, request.path_params["fid"])
        return {"url": self.sb.storage.download_url(self.sb.base(request), name, lambda: item.files.get(name))}

    async def add_file(self, request: Request, execution: Execution) -> Any:
        item = self._owned(execution, request.path_params["wid"])
        body = await self.sb.json(request)
        name, size = (body.get("fileName"), body.get("fileSize")) if isinstance(body, dict) else (None, None)
        url, fields = self.sb.upload_slot(request, item, name, size, any_state=True)
        return {"url": url, "fields": fields}

    async def delete_file(self, request: Request, execution: Execution) -> Any:
        item = self._owned(execution, request.path_params["wid"])
        del item.files[self._file_name(item, request.path_params["fid"])]
        return Response(status_code=204)

    def routes(self) -> list[BaseRoute]:
        proc = "/process-v1/workspaces/{ws}/processes/{pid}"
        robot = proc + "/runs/{rid}/robotRuns/{sid}"
        items = "/json-v1/workspaces/{ws}/workitems/{wid}"
        guard = self._guard
        return [
            Route(robot + "/reserve-next-work-item", guard(self.reserve), methods=["POST"]),
            Route(robot + "/release-work-item", guard(self.release), methods=["POST"]),
            Route(proc + "/work-items/{wid}/output", guard(self.create_output), methods=["POST"]),
            Route(items + "/data", guard(self.get_data), methods=["GET"]),
            Route(items + "/data", guard(self.put_data), methods=["PUT"]),
            Route(items + "/files", guard(self.list_files), methods=["GET"]),
            Route(items + "/files", guard(self.add_file), methods=["POST"]),
            Route(items + "/files/{fid}", guard(self.get_file), methods=["GET"]),
            Route(items + "/files/{fid}", guard(self.delete_file), methods=["DELETE"]),
        ]
