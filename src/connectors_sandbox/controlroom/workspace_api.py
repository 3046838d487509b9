"""``/api/v1/workspaces/{ws}/…``: webhooks, assets, workers and the start endpoint for integrations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from connectors_sandbox.controlroom.access import as_list, bad_request, not_found
from connectors_sandbox.controlroom.model import new_id, stable_id
from connectors_sandbox.controlroom.paging import page

if TYPE_CHECKING:
    from connectors_sandbox.controlroom.emulator import ControlRoomSandbox, Handler

WEBHOOK_EVENTS = ("process_run.started", "process_run.completed", "process_run.unresolved")
INLINE_LIMIT = 5 * 1024 * 1024  # the spec: inline ``data`` is for payloads under 5 MB


@dataclass
class Webhook:
    id: str
    workspace_id: str
    process_id: str | None
    endpoint: str
    events: list[str]
    secret: str


@dataclass
class Asset:
    id: str
    workspace_id: str
    name: str
    content: bytes | None = None
    content_type: str = ""
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)


class WorkspaceApi:
    def __init__(self, sandbox: ControlRoomSandbox) -> None:
        self.sb = sandbox
        self.webhooks: dict[str, Webhook] = {}
        self.assets: dict[str, Asset] = {}

    def reset(self) -> None:
        self.webhooks.clear()
        self.assets.clear()

    def handlers(self) -> dict[str, Handler]:
        """The spec's operations this module serves, by operation id (the table gives method, path, scope)."""
        return {
            "listWebhooks": self.list_webhooks,
            "createWebhook": self.create_webhook,
            "getWebhook": self.get_webhook,
            "deleteWebhook": self.delete_webhook,
            "listAssets": self.list_assets,
            "createAsset": self.create_asset,
            "getAsset": self.get_asset,
            "deleteAsset": self.delete_asset,
            "createAssetUpload": self.create_upload,
            "getAssetUpload": self.get_upload,
            "listWorkers": self.list_workers,
            "startProcessRunQsAuth": self.start_integration,
        }

    # -- webhooks -----------------------------------------------------------------------------------
    def _webhook(self, ws: str, webhook_id: str) -> Webhook:
        hook = self.webhooks.get(webhook_id)
        if hook is None or hook.workspace_id != ws:
            raise not_found(f"Webhook {webhook_id} not found")
        return hook

    @staticmethod
    def _listed(hook: Webhook) -> dict[str, Any]:
        process = {"id": hook.process_id} if hook.process_id else None
        return {"id": hook.id, "process": process, "enabled_events": list(hook.events), "endpoint": hook.endpoint}

    async def list_webhooks(self, request: Request, ws: str) -> Any:
        return {"data": [self._listed(h) for h in self.webhooks.values() if h.workspace_id == ws]}

    async def create_webhook(self, request: Request, ws: str) -> Any:
        body = await self.sb.json(request)
        if not isinstance(body, dict):
            raise bad_request('The body must be {"endpoint", "enabled_events", "process": {"id"}}')
        endpoint = body.get("endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise bad_request("'endpoint' must be an http(s) URL")
        events = as_list(body.get("enabled_events"), "enabled_events")
        unknown = [e for e in events if e not in WEBHOOK_EVENTS]
        if unknown:
            raise bad_request(f"Unknown event {unknown[0]!r}; use {', '.join(WEBHOOK_EVENTS)}")
        process = body.get("process")
        if not isinstance(process, dict) or not isinstance(process.get("id"), str):
            raise bad_request("'process.id' is required: Control Room's API creates process webhooks")
        self.sb.process(ws, process["id"])
        secret = "whsec_" + secrets.token_urlsafe(24)
        self.sb.ctx.remember_secret(secret)
        hook = Webhook(new_id(), ws, process["id"], endpoint, list(dict.fromkeys(events)), secret)
        self.webhooks[hook.id] = hook
        self.sb.webhooks.wake()
        return dict(self._listed(hook), secret=hook.secret)

    async def get_webhook(self, request: Request, ws: str) -> Any:
        hook = self._webhook(ws, request.path_params["webhook_id"])
        return dict(self._listed(hook), secret=hook.secret)

    async def delete_webhook(self, request: Request, ws: str) -> Any:
        hook = self._webhook(ws, request.path_params["webhook_id"])
        del self.webhooks[hook.id]
        return {"id": hook.id, "deleted": True}

    # -- assets -------------------------------------------------------------------------------------
    def _asset(self, ws: str, ref: str) -> Asset:
        if ref.startswith("name:"):
            found = next((a for a in self.assets.values() if a.workspace_id == ws and a.name == ref[5:]), None)
        else:
            found = self.assets.get(ref)
        if found is None or found.workspace_id != ws:
            raise not_found(f"Asset {ref} not found")
        return found

    async def list_assets(self, request: Request, ws: str) -> Any:
        rows = sorted((a for a in self.assets.values() if a.workspace_id == ws), key=lambda a: a.name)
        return {"data": [{"id": a.id, "name": a.name} for a in rows]}

    async def create_asset(self, request: Request, ws: str) -> Any:
        body = await self.sb.json(request)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise bad_request("'name' is required")
        if any(a.workspace_id == ws and a.name == name for a in self.assets.values()):
            raise bad_request(f"An asset named {name!r} exists already")
        asset = Asset(new_id(), ws, name)
        self.assets[asset.id] = asset
        return {"id": asset.id, "name": asset.name, "payload": {"type": "empty"}}

    async def get_asset(self, request: Request, ws: str) -> Any:
        asset = self._asset(ws, request.path_params["asset_id"])
        if asset.content is None:
            return {"id": asset.id, "name": asset.name, "payload": {"type": "empty"}}
        content = asset.content
        url = self.sb.storage.download_url(self.sb.base(request), asset.name, lambda: content)
        payload = {"type": "url", "content_type": asset.content_type, "url": url}
        return {"id": asset.id, "name": asset.name, "payload": payload}

    async def delete_asset(self, request: Request, ws: str) -> Any:
        asset = self._asset(ws, request.path_params["asset_id"])
        del self.assets[asset.id]
        return {"id": asset.id, "deleted": True}

    async def create_upload(self, request: Request, ws: str) -> Any:
        asset = self._asset(ws, request.path_params["asset_id"])
        body = await self.sb.json(request)
        content_type = body.get("content_type") if isinstance(body, dict) else None
        if not isinstance(content_type, str) or not content_type:
            raise bad_request("'content_type' is required")
        data = body.get("data")
        upload_id = new_id()
        if data is not None:
            if not isinstance(data, str):
                raise bad_request("'data' must be a string")
            raw = data.encode()
            if len(raw) >= INLINE_LIMIT:
                raise bad_request("Inline data must be under 5 MB; create the upload without data and PUT it")
            asset.content, asset.content_type = raw, content_type
            asset.uploads[upload_id] = {"id": upload_id, "status": "completed", "content_type": content_type}
            return dict(asset.uploads[upload_id])

        def store(content: bytes, _sent_type: str) -> None:
            asset.content, asset.content_type = content, content_type
            asset.uploads[upload_id]["status"] = "completed"

        asset.uploads[upload_id] = {"id": upload_id, "status": "pending", "content_type": content_type}
        url = self.sb.storage.put_url(self.sb.base(request), store)
        return dict(asset.uploads[upload_id], upload_url=url)

    async def get_upload(self, request: Request, ws: str) -> Any:
        asset = self._asset(ws, request.path_params["asset_id"])
        upload = asset.uploads.get(request.path_params["upload_id"])
        if upload is None:
            raise not_found(f"Upload {request.path_params['upload_id']} not found")
        return dict(upload)

    # -- workers ------------------------------------------------------------------------------------
    async def list_workers(self, request: Request, ws: str) -> Any:
        now = self.sb.clock.now()
        busy = sum(
            1
            for run in self.sb.model.runs.values()
            if run.workspace_id == ws
            for step in run.step_runs
            if step.state(now) == "in_progress"
        )
        workers = [
            {"id": stable_id(f"worker/{ws}/{n}"), "name": f"Demo worker {n}", "state": "busy" if busy >= n else "idle"}
            for n in (1, 2)
        ]
        return page(request, workers, dict)

    # -- integrations -------------------------------------------------------------------------------
    async def start_integration(self, request: Request, ws: str) -> Any:
        handshake = request.query_params.get("with_handshake")
        if handshake not in (None, "asana"):
            raise bad_request("with_handshake must be asana")
        process = self.sb.process(ws, request.path_params["process_id"])
        body = await self.sb.json(request)
        if body is None:  # no body, or JSON null: the spec asks for any JSON value but null
            raise bad_request("The request body is required: it becomes the run's input work item")
        run = self.sb.model.trigger(process, [body])
        self.sb.started(run)
        headers = {}
        if handshake and request.headers.get("x-hook-secret"):
            headers["X-Hook-Secret"] = request.headers["x-hook-secret"]  # Asana's handshake: echo the secret
        return JSONResponse({"started": True, "id": run.id}, headers=headers)
