"""Robocorp Control Room, described once: settings, credentials, limits, errors and hints."""

from __future__ import annotations

from Connectors.core.config import RateSpec, http_url
from Connectors.core.error_format import ErrorFormat
from Connectors.core.profile import AuthScheme, CredentialKind, Setting, VendorProfile
from Connectors.vendors.controlroom.model import ControlRoomApi

# No published limit: stay polite by default; CONTROLROOM_RATE_LIMIT overrides.
RATE = RateSpec(10, 1.0, burst=20)
CLOUD_URL = "https://cloud.robocorp.com"
CLOUD_LEGACY_URL = "https://api.eu1.robocorp.com"

CONTROLROOM = VendorProfile(
    name="Control Room",
    default_url=CLOUD_URL,
    site="https://robocorp.com/docs/control-room",
    summary="Robocorp's orchestrator of process runs, work items and assets",
    api_path="/api/v1",
    settings=(
        Setting("workspace_id", "CONTROLROOM_WORKSPACE_ID", ("workspace_id", "workspace"), doc="the workspace"),
        Setting(
            "api_key",
            "CONTROLROOM_API_KEY",
            ("api_key", "apikey"),
            secret=True,
            doc="a workspace API key with the permissions the robot needs",
        ),
        Setting(
            "url",
            "CONTROLROOM_URL",
            default=CLOUD_URL,
            doc="Control Room (SSO: ``https://<sub>.robocorp.com``)",
            parse=http_url,
        ),
        Setting(
            "api",
            "CONTROLROOM_API",
            default="current",
            doc="``current`` (``/api/v1``) or ``legacy``",
            kind=ControlRoomApi,
        ),
        Setting(
            "legacy_url",
            "CONTROLROOM_LEGACY_URL",
            doc=f"host of the legacy ``/process-v1`` API (default {CLOUD_LEGACY_URL} for the cloud)",
        ),
        Setting("organization", "CONTROLROOM_ORGANIZATION", doc="organization slug, for exact run links"),
        Setting(
            "webhook_secret",
            "CONTROLROOM_WEBHOOK_SECRET",
            secret=True,
            doc="the webhooks' signing secret (`Verify Control Room Webhook`, ``connectors webhooks serve``)",
        ),
    ),
    credentials=(
        CredentialKind(
            "a workspace API key",
            AuthScheme.HEADERS,
            ("workspace_id", "api_key"),
            headers={"Authorization": "RC-WSKEY {api_key}"},
            identity=("workspace_id", "api_key"),
        ),
    ),
    connect_details=(
        "``api`` is ``current`` (``/api/v1``, the default) or ``legacy`` (the deprecated ``/process-v1`` API "
        "that ``RPA.Robocorp.Process`` uses); ``legacy_url`` is its host (default "
        "``https://api.eu1.robocorp.com`` for the cloud, ``url`` otherwise). ``organization`` makes the run "
        "links in messages exact."
    ),
    connect_examples="""
        | Connect To Control Room | ${WORKSPACE_ID} | %{CONTROLROOM_API_KEY} |
        | Connect To Control Room | api=legacy |
        | Connect To Control Room | vault_secret=controlroom |
    """,
    rate=RATE,
    rate_published=False,
    default_headers={"Accept": "application/json"},
    # {"error": {"code": …, "message": …}} (the spec's GenericErrorResponse)
    error_format=ErrorFormat(message=("error.message", "message", "error"), code=("error.code", "code")),
    hints={
        401: "Check the API key (CONTROLROOM_API_KEY): it is missing, mistyped or deleted.",
    },
)
