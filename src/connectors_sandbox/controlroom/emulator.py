"""Robocorp Control Room emulation under ``/controlroom``: ``/api/v1`` as the vendor's OpenAPI spec has it,
the legacy ``/process-v1`` API, and the worker-side API robots use inside a run.

Every public call needs ``Authorization: RC-WSKEY <key>``; keys belong to one workspace and carry the
spec's permission scopes, and a key without the scope an operation needs gets a 403 naming it. Errors,
also for unknown paths and methods, are ``{"error": {"code", "message"}}``. Control Room publishes no rate
limit: there is none here unless a test sets one (``/_sandbox/controlroom/config`` ``rate_limit``), and
its 429 then carries no ``Retry-After`` (no source documents one). Work-item payloads over
``PAYLOAD_LIMIT`` bytes are refused with 400, as Control Room refuses them.
"""

from __future__ import annotations

import html
import json
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors_sandbox.app import SandboxContext, VendorSandbox
from connectors_sandbox.common import ServerBucket
from connectors_sandbox.controlroom import access
from connectors_sandbox.controlroom.access import ERRORS, ApiKey, Keys, bad_request, not_found, refusal
from connectors_sandbox.controlroom.current import CurrentApi, conflict
from connectors_sandbox.controlroom.executions import ARTIFACTS_PLACEHOLDER, Executions
from connectors_sandbox.controlroom.legacy import LegacyApi
from connectors_sandbox.controlroom.model import (
    Clock,
    Conflict,
    ControlRoomModel,
    Process,
    Run,
    Step,
    StepRun,
    WorkItem,
    stable_id,
)
from connectors_sandbox.controlroom.operations import OPERATIONS
from connectors_sandbox.controlroom.render import Renderer
from connectors_sandbox.controlroom.storage import Storage
from connectors_sandbox.controlroom.webhooks import WebhookEmitter
from connectors_sandbox.controlroom.worker_api import WorkerApi
from connectors_sandbox.controlroom.workspace_api import WorkspaceApi
from connectors_sandbox.pipeline import Call, RequestPipeline
from connectors_sandbox.vault import VaultApi

DEMO_PROCESSES = [
    ("Invoice Processing", ["Read invoices", "Post invoices"]),
    ("Customer Onboarding", ["Onboard customer"]),
    ("Report Generation", ["Collect data", "Build report", "Send report"]),
]
# The default work item of the demo processes that have one (a run started without a body gets it).
DEMO_DEFAULT_PAYLOADS = {"Report Generation": {"report": "monthly"}}
Handler = Callable[[Request, str], Awaitable[Any]]
API_V1 = "/api/v1"
T = TypeVar("T")


def demo_process_id(name: str) -> str:
    return stable_id(f"process/{name}")


@dataclass(frozen=True)
class Access:
    """What a route requires: the spec's permission scope, and whether the key comes as ``?token=``."""

    scope: str
    query_token: bool = False


class ControlRoomSandbox(VendorSandbox, RequestPipeline[Access, ApiKey]):
    name = "controlroom"
    errors = ERRORS

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx)
        self.keys = Keys()
        ctx.remember_secret(*self.keys.keys, access.WEBHOOK_SECRET)
        self.clock = Clock(lambda: ctx.options.time_scale)
        self.url_ttl = 60.0
        # A per-key limit for tests of the 429 path only: Control Room publishes none (off by default).
        self.rate: float | None = None
        self.burst: int | None = None  # default: one second's worth
        self.storage = Storage(ctx.remember_secret, lambda: self.url_ttl)
        self.current = CurrentApi(self)
        self.workspace_api = WorkspaceApi(self)
        self.legacy = LegacyApi(self)
        self.worker_api = WorkerApi(self)
        self.webhooks = WebhookEmitter(self)
        self.executions = Executions(self)
        self._seen_base = ""
        self.vault = VaultApi(access.WORKSPACE_ID, ERRORS, ctx.remember_secret, self.public_base)
        self.model = ControlRoomModel(self.clock, lambda: self.ctx.options.run_seconds)
        self.reset()

    # -- data -------------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.model.lock:
            self.executions.reset()
        self.model = ControlRoomModel(self.clock, lambda: self.ctx.options.run_seconds)
        self.model.executor = self.executions.start
        self.render = Renderer(self.model)
        self.keys.bucket = self._bucket()
        self.storage.clear()
        self.workspace_api.reset()
        self.webhooks.reset()
        self.vault.reset(self.ctx.options.demo)
        self.model.add_workspace(access.WORKSPACE_ID, "Demo workspace")
        self.model.add_workspace(access.OTHER_WORKSPACE_ID, "Other workspace")
        for name, steps in DEMO_PROCESSES:
            default = DEMO_DEFAULT_PAYLOADS.get(name)
            self.model.add_process(access.WORKSPACE_ID, name, list(steps), demo_process_id(name), default)
        self.model.add_process(access.OTHER_WORKSPACE_ID, "Other Process", ["Run robot"], stable_id("process/other"))
        if self.ctx.options.demo:
            # A little history, so listing runs shows something on a fresh sandbox.
            invoice = self.model.processes[demo_process_id("Invoice Processing")]
            for payload in (
                {"invoice": "INV-1001"},
                {"invoice": "INV-1002", "sandbox": {"outcome": "unresolved"}},
                {"invoice": "INV-1003"},
            ):
                self.model.trigger(invoice, [payload], started_by="schedule", at=-3600.0)

    def info(self) -> dict[str, Any]:
        return {
            "env": {
                "CONTROLROOM_WORKSPACE_ID": access.WORKSPACE_ID,
                "CONTROLROOM_API_KEY": access.API_KEY,
                "CONTROLROOM_READONLY_API_KEY": access.READONLY_API_KEY,
                "CONTROLROOM_OTHER_WORKSPACE_ID": access.OTHER_WORKSPACE_ID,
                "CONTROLROOM_OTHER_WORKSPACE_API_KEY": access.OTHER_WORKSPACE_API_KEY,
                "CONTROLROOM_PROCESS_ID": demo_process_id("Invoice Processing"),
                "CONTROLROOM_WEBHOOK_SECRET": access.WEBHOOK_SECRET,
                "CONTROLROOM_ORGANIZATION": access.ORGANIZATION,
                **self.vault.env(),
            },
            "vault": self.vault.info(),
            "processes": {name: demo_process_id(name) for name, _ in DEMO_PROCESSES},
            "rate_limit": f"{self.ctx.scaled(self.rate):g}/s" if self.rate else "none (Control Room publishes none)",
            "permissions": list(access.ALL_PERMISSIONS),
        }

    # -- shared helpers of the API modules ----------------------------------------------------------
    def base(self, request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def public_base(self) -> str:
        return self.ctx.base_url or self._seen_base

    @staticmethod
    async def json(request: Request) -> Any:
        raw = await request.body()
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise bad_request(f"Malformed JSON body: {exc}")

    def process(self, workspace_id: str, process_id: str) -> Process:
        return found(self.model.process(workspace_id, process_id), f"Process {process_id}")

    def run(self, workspace_id: str, run_id: str) -> Run:
        return found(self.model.run(workspace_id, run_id), f"Process run {run_id}")

    def item(self, workspace_id: str, item_id: str) -> WorkItem:
        return found(self.model.item(workspace_id, item_id), f"Work item {item_id}")

    def step(self, workspace_id: str, step_run_id: str) -> StepRun:
        return found(self.model.step_run(workspace_id, step_run_id), f"Step run {step_run_id}")

    def started(self, run: Run) -> None:
        self.webhooks.wake()

    def upload_slot(
        self, request: Request, item: Any, name: Any, size: Any, any_state: bool = False
    ) -> tuple[str, dict[str, str]]:
        valid_size = isinstance(size, (int, float)) and not isinstance(size, bool) and size >= 0 and size == int(size)
        if not isinstance(name, str) or not name or "/" in name or not valid_size:
            raise bad_request("A file name (without folders) and a size in bytes are required")
        if not any_state and item.at(self.clock.now()).state not in ("new", "pending"):
            raise bad_request(f"Files can only be added to work items that are new or pending, not {item.id}")

        def store(content: bytes) -> None:
            with self.model.lock:
                item.files[name] = content

        return self.storage.upload_slot(self.base(request), f"{item.id}/{name}", int(size), store)

    # -- the shared request pipeline: authenticate → rate-limit → authorise → handle → map errors --------
    def authenticate(self, request: Request, access: Access, headers: dict[str, str]) -> ApiKey:
        self._seen_base = self._seen_base or self.base(request)
        return self.keys.authenticate(request, access.query_token)

    def rate_limit(self, call: Call[Access, ApiKey]) -> None:
        self.keys.spend(call.principal)

    def authorise(self, call: Call[Access, ApiKey]) -> None:
        workspace_id = call.params["workspace_id"]
        self.keys.authorise(call.principal, workspace_id, call.access.scope)
        if workspace_id not in self.model.workspaces:
            raise not_found(f"Workspace {workspace_id} not found")

    async def handle(self, call: Call[Access, ApiKey], handler: Any) -> Response:
        await call.request.body()  # read before locking: the handler then never waits while holding it
        try:
            with self.model.lock:
                response: Response = await handler(call)
        except Conflict as error:
            raise conflict(error)
        except (KeyError, ValueError, TypeError) as error:
            message = error.args[0] if error.args and isinstance(error.args[0], str) else str(error)
            raise refusal(404 if isinstance(error, KeyError) else 400, message)
        return response

    def api_route(self, path: str, method: str, scope: str, handler: Handler, query_token: bool = False) -> Route:
        async def adapted(call: Call[Access, ApiKey]) -> Response:
            result = await handler(call.request, call.params["workspace_id"])
            return result if isinstance(result, Response) else JSONResponse(result)

        return self.route(path, adapted, Access(scope, query_token), [method])

    async def run_page(self, request: Request) -> Response:
        run = self.model.runs.get(request.path_params["rid"])
        if run is None or run.workspace_id != request.path_params["ws"]:
            return HTMLResponse("<h1>Process run not found</h1>", 404)
        now = self.clock.now()
        data = self.render.run(run, now)
        steps = "".join(f"<li>{html.escape(s.name)}: {s.state(now)}</li>" for s in self.model.visible_steps(run, now))
        return HTMLResponse(
            f"<h1>{html.escape(data['process']['name'])} run #{run.number}</h1>"
            f"<p>State: {data['state']}</p><ul>{steps}</ul>"
        )

    # -- admin ----------------------------------------------------------------------------------------
    async def admin_config(self, request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        if "rate_limit" in body or "burst" in body:
            # A limit for tests of the 429 path: null (or 0) turns it off again, as it starts.
            rate = body.get("rate_limit", self.rate)
            self.rate = float(rate) if rate else None
            burst = body.get("burst", self.burst)
            self.burst = int(burst) if burst else None
            self.keys.bucket = self._bucket()
        if "url_ttl" in body:
            self.url_ttl = float(body["url_ttl"])
        if "webhook_url" in body:
            self.webhooks.workspace_url = body["webhook_url"] or None
            self.webhooks.wake()
        if "webhook_duplicates" in body:
            self.webhooks.duplicates = bool(body["webhook_duplicates"])
        return JSONResponse(
            {
                "rate_limit": self.rate,
                "burst": self.burst,
                "url_ttl": self.url_ttl,
                "webhook_url": self.webhooks.workspace_url,
                "webhook_duplicates": self.webhooks.duplicates,
            }
        )

    def _bucket(self) -> ServerBucket | None:
        if not self.rate:
            return None
        return ServerBucket(self.ctx.scaled(self.rate), max(1, round(self.ctx.scaled(self.burst or self.rate))))

    async def admin_add_process(self, request: Request) -> Response:
        """Register a process. Each step is a name (simulated) or ``{name, command | robot_yaml + task, cwd,
        env, parallel}``; top-level ``command`` / ``robot_yaml`` / ``parallel`` describe a one-step process;
        ``default_payload`` is the work item of a run started without a body (default: an empty one)."""
        body = json.loads(await request.body() or b"{}")
        raw_steps = body.get("steps") or [{"name": "Run robot"}]
        if body.get("command") or body.get("robot_yaml"):
            first = raw_steps[0] if isinstance(raw_steps[0], dict) else {"name": raw_steps[0]}
            keys = ("command", "robot_yaml", "task", "cwd", "env", "parallel")
            raw_steps = [dict(first, **{k: body[k] for k in keys if k in body}), *raw_steps[1:]]
        process_id = str(body.get("id") or stable_id(f"process/{body['name']}"))
        steps = [_step(process_id, index, raw) for index, raw in enumerate(raw_steps)]
        with self.model.lock:
            process = self.model.add_process(
                body.get("workspace_id", access.WORKSPACE_ID),
                str(body["name"]),
                list(steps),
                process_id,
                body.get("default_payload"),
            )
        return JSONResponse(self.render.process(process))

    async def admin_webhook_events(self, request: Request) -> Response:
        self.webhooks.emit_due()
        return JSONResponse([dict(e) for e in self.webhooks.sent])

    # -- routing ------------------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        # /api/v1 from the spec's table: each handled operation at its method and path, checked against its
        # permission; a key may come as ``?token=`` where the operation requires that query parameter.
        handlers = {**self.current.handlers(), **self.workspace_api.handlers()}
        routes: list[BaseRoute] = []
        for operation_id, handler in handlers.items():
            operation = OPERATIONS[operation_id]
            query_token = ("token", True) in operation.query
            routes.append(
                self.api_route(
                    API_V1 + operation.path, operation.method, operation.scope, handler, query_token=query_token
                )
            )
        routes += self.worker_api.routes()
        routes += self.vault.routes()
        routes += [
            self.api_route("/process-v1/workspaces/{workspace_id}" + path, method, access.scope(operation), handler)
            for method, path, operation, handler in self.legacy.routes()
        ]
        routes += self.storage.routes()
        routes += [
            Route("/{org}/{ws}/processes/runs/{rid}", self.run_page, methods=["GET"]),
            Route("/{ws}/processes/runs/{rid}", self.run_page, methods=["GET"]),
        ]
        return routes

    def admin_routes(self) -> list[BaseRoute]:
        return [
            Route("/config", self.admin_config, methods=["POST"]),
            Route("/processes", self.admin_add_process, methods=["POST"]),
            Route("/webhook-events", self.admin_webhook_events, methods=["GET"]),
        ]


def found(value: T | None, what: str) -> T:
    if value is None:
        raise not_found(f"{what} not found")
    return value


def _step(process_id: str, index: int, raw: Any) -> Step:
    if not isinstance(raw, dict):
        return Step(stable_id(f"step/{process_id}/{index}"), str(raw))
    command, cwd = raw.get("command"), raw.get("cwd")
    if raw.get("robot_yaml"):
        command, cwd = robot_task_command(Path(raw["robot_yaml"]), str(raw.get("task", "")))
    return Step(
        stable_id(f"step/{process_id}/{index}"),
        str(raw.get("name") or raw.get("task") or "Run robot"),
        [str(part) for part in command] if command else None,
        cwd,
        {str(k): str(v) for k, v in (raw.get("env") or {}).items()},
        max(1, int(raw.get("parallel") or 1)),
    )


def robot_task_command(robot_yaml: Path, task: str) -> tuple[list[str], str]:
    """The argv of a robot.yaml task, run the way rcc would from the robot's folder.

    The task's ``--outputdir <artifactsDir>`` becomes the execution's own ``ROBOT_ARTIFACTS``, so that
    parallel executions do not write over each other's ``output.xml``.
    """
    import yaml  # type: ignore[import-untyped]

    config = yaml.safe_load(robot_yaml.read_text()) or {}
    spec = config.get("tasks", {}).get(task)
    if spec is None:
        raise ValueError(f"robot.yaml has no task {task!r}")
    if "command" in spec:
        command = [str(part) for part in spec["command"]]
    elif "shell" in spec:
        command = shlex.split(spec["shell"])
    else:
        command = ["python", "-m", "robot", "--report", "NONE", "--task", spec["robotTaskName"], "."]
    artifacts_dir = str(config.get("artifactsDir", "output"))
    for index, part in enumerate(command[:-1]):
        if part in ("--outputdir", "-d") and command[index + 1] == artifacts_dir:
            command[index + 1] = ARTIFACTS_PLACEHOLDER
    return command, str(robot_yaml.parent)


def create(ctx: SandboxContext) -> ControlRoomSandbox:
    return ControlRoomSandbox(ctx)
