"""Who may call what: the fixed demo credentials, API keys with the spec's permission scopes, errors.

Control Room's API keys belong to one workspace and carry permissions named ``Area.permission``; the
spec names the one each operation needs (``security`` of every operation). Errors are the spec's
``genericErrorResponse``: ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from Connectors.sandbox.common import ServerBucket, ceil_seconds
from Connectors.sandbox.controlroom.model import stable_id

READ_PROCESSES = "Processes.read_processes"
READ_RUNS = "Processes.read_runs"
TRIGGER_PROCESSES = "Processes.trigger_processes"
READ_WORK_ITEMS = "Processes.read_work_items"
WRITE_WORK_ITEMS = "Processes.write_work_items"
READ_RUN_OUTPUTS = "Processes.read_run_outputs"
READ_WEBHOOKS = "Webhooks.read_webhooks"
WRITE_WEBHOOKS = "Webhooks.write_webhooks"
READ_ASSETS = "Assets.read_asset_storage_assets"
WRITE_ASSETS = "Assets.write_asset_storage_assets"
READ_WORKERS = "Workers.read_workers"
NO_SCOPE = ""  # getWorkspace needs a valid key and nothing more

ALL_PERMISSIONS = (
    READ_PROCESSES,
    READ_RUNS,
    TRIGGER_PROCESSES,
    READ_WORK_ITEMS,
    WRITE_WORK_ITEMS,
    READ_RUN_OUTPUTS,
    READ_WEBHOOKS,
    WRITE_WEBHOOKS,
    READ_ASSETS,
    WRITE_ASSETS,
    READ_WORKERS,
    "Workers.write_workers",
)
READ_ONLY = (READ_PROCESSES, READ_RUNS, READ_WORK_ITEMS, READ_RUN_OUTPUTS, READ_WEBHOOKS, READ_ASSETS, READ_WORKERS)

# Fixed demo credentials (docs/controlroom.md, /_sandbox/config, devdata/env.json): the same at every
# start, so a robot's devdata works as it is. They open nothing but this local sandbox.
WORKSPACE_ID = stable_id("workspace/demo")
OTHER_WORKSPACE_ID = stable_id("workspace/other")
ORGANIZATION = "demo-organization"
API_KEY = "crk-demo-all-permissions-5f1d2c7e9a4b"
READONLY_API_KEY = "crk-demo-read-only-8c3e6a1f4b7d"
OTHER_WORKSPACE_API_KEY = "crk-demo-other-workspace-2b9f7d4c1e6a"
WEBHOOK_SECRET = "whsec-demo-controlroom-4e8a1c6f9b2d"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message, self.headers)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


class ApiKey:
    def __init__(self, value: str, workspace_id: str, permissions: Iterable[str], name: str) -> None:
        self.value, self.workspace_id, self.permissions, self.name = value, workspace_id, set(permissions), name


class Keys:
    """The workspace API keys and a per-key token bucket (Control Room publishes no limit)."""

    def __init__(self) -> None:
        self.keys = {
            API_KEY: ApiKey(API_KEY, WORKSPACE_ID, ALL_PERMISSIONS, "demo-all"),
            READONLY_API_KEY: ApiKey(READONLY_API_KEY, WORKSPACE_ID, READ_ONLY, "demo-read-only"),
            OTHER_WORKSPACE_API_KEY: ApiKey(
                OTHER_WORKSPACE_API_KEY, OTHER_WORKSPACE_ID, ALL_PERMISSIONS, "other-workspace"
            ),
        }
        self.bucket = ServerBucket(50, 100)

    def check(self, request: Request, workspace_id: str, scope: str, key: str | None = None) -> ApiKey:
        """The key of the request (header ``RC-WSKEY`` or the ``token`` query value), allowed ``scope``."""
        if key is None:
            scheme, _, key = request.headers.get("authorization", "").partition(" ")
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
                429, "too_many_requests", "Too many requests, slow down", {"Retry-After": str(ceil_seconds(wait))}
            )
        if api_key.workspace_id != workspace_id:
            raise ApiError(403, "forbidden", f"The API key is not valid for workspace {workspace_id}")
        if scope and scope not in api_key.permissions:
            raise ApiError(
                403, "forbidden", f"The API key '{api_key.name}' lacks the permission '{scope}' for this operation"
            )
        return api_key


def as_list(value: Any, name: str, item_type: type = str) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(v, item_type) for v in value):
        raise bad_request(f"'{name}' must be a list of {item_type.__name__}s")
    return value
