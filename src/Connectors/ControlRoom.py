"""``Library    Connectors.ControlRoom``: Robot Framework keywords for Robocorp Control Room."""

from __future__ import annotations

from typing import Any

from Connectors.library import ConnectorLibrary, takes_settings
from Connectors.vendors.controlroom.client import ControlRoomClient
from Connectors.vendors.controlroom.keywords import (
    ControlRoomArtifactKeywords,
    ControlRoomAssetKeywords,
    ControlRoomProcessKeywords,
    ControlRoomRunKeywords,
    ControlRoomStepKeywords,
    ControlRoomWebhookKeywords,
    ControlRoomWorkerKeywords,
    ControlRoomWorkItemKeywords,
)
from Connectors.vendors.controlroom.profile import CONTROLROOM


class ControlRoom(ConnectorLibrary[ControlRoomClient]):
    """Keywords for [https://robocorp.com/docs/control-room|Robocorp Control Room]: trigger process runs,
    wait for them, page through runs and work items, stop and delete runs, retry, fix or delete failed
    work, read step runs, console output and artifacts, manage process webhooks, assets, and list workers.

    = Connecting =

    `Connect To Control Room` takes a workspace id and a workspace API key (``RC-WSKEY``). Without it,
    the first keyword connects from the environment:

    | =Variable= | =Meaning= |
    | ``CONTROLROOM_WORKSPACE_ID`` | the workspace |
    | ``CONTROLROOM_API_KEY`` | a workspace API key with the permissions the robot needs |
    | ``CONTROLROOM_URL`` | default ``https://cloud.robocorp.com`` (SSO: ``https://<sub>.robocorp.com``) |
    | ``CONTROLROOM_LEGACY_URL`` | host of the legacy ``/process-v1`` API (``api=legacy``) |
    | ``CONTROLROOM_ORGANIZATION`` | organization slug, for exact run links in messages |
    | ``CONNECTORS_VAULT_SECRET`` | Vault secret with ``workspace_id`` and ``api_key`` |
    | ``CONTROLROOM_RATE_LIMIT``, ``CONTROLROOM_RATE_BURST`` | client-side limit, default ``10/s`` burst 20 |
    | ``CONNECTORS_THROTTLE_STORE`` | share the limit between processes (``sqlite:///path``, ``redis://…``) |

    The library arguments ``workspace_id``, ``api_key`` (a ``Secret``), ``url`` and ``api`` do the same
    at import time.

    = Two API generations =

    ``api=current`` (default) uses ``/api/v1`` as Robocorp's OpenAPI spec describes it: server-side
    filters, paging with ``next`` links, stopping and deleting runs, webhooks, assets, workers.
    ``api=legacy`` uses the deprecated ``/process-v1`` API (the one ``RPA.Robocorp.Process`` speaks);
    results have the same shape either way, with the original legacy answer under ``legacy``.

    = Starting runs =

    `Trigger Process Run` starts one run with one input work item (without a payload no body is sent, so
    the process's default work item applies); `Trigger Process Runs` starts one run per payload;
    `Trigger Process Run With Payloads` starts ONE run with one input work item per payload, which is how
    a process whose step runs parallel executions is fed. A payload may hold at most 100,000 bytes of
    JSON: larger data goes in a file attached with `Create Work Item`.

    = Runs and waiting =

    Run states: ``new``, ``in_progress``, ``stopping``, ``completed``, ``unresolved`` (a step or a work
    item failed, or the run was stopped). `Wait For Process Run` polls with back-off and fails with the
    state, the failing step and a link to the run.

    = Errors =

    A failure is one line that says what to do, for example a 403 names the permission the operation
    needs according to Control Room's API specification (``Processes.trigger_processes`` to start or
    stop runs, ``Processes.read_processes`` to read a run, ``Processes.read_runs`` to list them, …).
    Requests refused with 429 are retried with back-off; a trigger is never repeated after an
    unclear network failure, so it cannot start two runs: it fails saying a run may have started and
    how to check. The API key never appears in the log, at any log level.
    """

    client_class = ControlRoomClient

    @takes_settings(CONTROLROOM)
    def __init__(self, *args: Any, **settings: Any) -> None:
        """Settings given here are the defaults of `Connect To Control Room`.

        | Library | Connectors.ControlRoom | api=legacy | url=https://cloud.robocorp.com |
        """
        super().__init__(
            [
                ControlRoomProcessKeywords(self),
                ControlRoomRunKeywords(self),
                ControlRoomStepKeywords(self),
                ControlRoomWorkItemKeywords(self),
                ControlRoomArtifactKeywords(self),
                ControlRoomWebhookKeywords(self),
                ControlRoomAssetKeywords(self),
                ControlRoomWorkerKeywords(self),
            ],
            args,
            settings,
        )
