"""Who may call what: the fixed demo credentials, API keys with the spec's permission scopes, errors.

Control Room's API keys belong to one workspace and carry permissions named ``Area.permission``; the
spec names the one each operation needs (``security`` of every operation). Errors are the spec's
``genericErrorResponse``: ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request

from connectors_sandbox.common import ApiError, ServerBucket
from connectors_sandbox.controlroom.model import stable_id
from connectors_sandbox.controlroom.operations import OPERATIONS
from connectors_sandbox.pipeline import ErrorFormat


def scope(operation_id: str) -> str:
    """The permission the spec's operation needs ("" for getWorkspace: a valid key and nothing more).

    Legacy ``/process-v1`` routes have no spec: each is checked as its current-API equivalent.
    """
    return OPERATIONS[operation_id].scope


# Every permission the spec names; the read-only demo key has the ``read_*`` ones.
ALL_PERMISSIONS = tuple(sorted({operation.scope for operation in OPERATIONS.values() if operation.scope}))
READ_ONLY = tuple(permission for permission in ALL_PERMISSIONS if ".read_" in permission)

# Fixed demo credentials (docs/controlroom.md, /_sandbox/config, devdata/env.json): the same at every
# start, so a robot's devdata works as it is. They open nothing but this local sandbox.
WORKSPACE_ID = stable_id("workspace/demo")
OTHER_WORKSPACE_ID = stable_id("workspace/other")
ORGANIZATION = "demo-organization"
API_KEY = "crk-demo-all-permissions-5f1d2c7e9a4b"
READONLY_API_KEY = "crk-demo-read-only-8c3e6a1f4b7d"
OTHER_WORKSPACE_API_KEY = "crk-demo-other-workspace-2b9f7d4c1e6a"
WEBHOOK_SECRET = "whsec-demo-controlroom-4e8a1c6f9b2d"


CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "too_many_requests",
}


class ControlRoomErrors(ErrorFormat):
    """The spec's ``genericErrorResponse``: ``{"error": {"code", "message"}}`` (no code list is documented)."""

    def body(self, error: ApiError) -> Any:
        if error.body is not None:
            return error.body
        code = error.fields.get("code") or CODES.get(error.status, "internal_error")
        return {"error": {"code": code, "message": error.message}}


ERRORS = ControlRoomErrors()


def refusal(status: int, message: str, headers: dict[str, str] | None = None) -> ApiError:
    return ApiError(message, status, headers=headers)


def bad_request(message: str) -> ApiError:
    return refusal(400, message)


def not_found(message: str) -> ApiError:
    return refusal(404, message)


class ApiKey:
    def __init__(self, value: str, workspace_id: str, permissions: Iterable[str], name: str) -> None:
        self.value, self.workspace_id, self.permissions, self.name = value, workspace_id, set(permissions), name


class Keys:
    """The workspace API keys, and for tests an optional per-key token bucket.

    Control Room publishes no rate limit and no ``Retry-After``: the bucket is off (None) unless a test
    turns it on (``/_sandbox/controlroom/config`` ``rate_limit``), and its 429 carries no header a source
    does not document.
    """

    def __init__(self) -> None:
        self.keys = {
            API_KEY: ApiKey(API_KEY, WORKSPACE_ID, ALL_PERMISSIONS, "demo-all"),
            READONLY_API_KEY: ApiKey(READONLY_API_KEY, WORKSPACE_ID, READ_ONLY, "demo-read-only"),
            OTHER_WORKSPACE_API_KEY: ApiKey(
                OTHER_WORKSPACE_API_KEY, OTHER_WORKSPACE_ID, ALL_PERMISSIONS, "other-workspace"
            ),
        }
        self.bucket: ServerBucket | None = None

    def authenticate(self, request: Request, query_token: bool) -> ApiKey:
        """The key of the request: header ``RC-WSKEY <key>``, or the ``token`` query value where allowed."""
        if query_token:
            key = request.query_params.get("token") or ""
            if not key:
                raise refusal(401, "Missing token query parameter")
        else:
            scheme, _, key = request.headers.get("authorization", "").partition(" ")
            if scheme != "RC-WSKEY" or not key.strip():
                raise refusal(
                    401, "Missing or malformed Authorization header; send 'Authorization: RC-WSKEY <api key>'"
                )
        api_key = self.keys.get(key.strip())
        if api_key is None:
            raise refusal(401, "Invalid API key")
        return api_key

    def spend(self, api_key: ApiKey) -> None:
        if self.bucket is None:
            return
        allowed, _remaining, _wait = self.bucket.take(api_key.value)
        if not allowed:
            raise refusal(429, "Too many requests, slow down")

    @staticmethod
    def authorise(api_key: ApiKey, workspace_id: str, scope: str) -> None:
        if api_key.workspace_id != workspace_id:
            raise refusal(403, f"The API key is not valid for workspace {workspace_id}")
        if scope and scope not in api_key.permissions:
            raise refusal(403, f"The API key '{api_key.name}' lacks the permission '{scope}' for this operation")


def as_list(value: Any, name: str, item_type: type = str) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(v, item_type) for v in value):
        raise bad_request(f"'{name}' must be a list of {item_type.__name__}s")
    return value
