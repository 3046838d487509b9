"""Robostack, described once: settings, credentials, limits, errors and hints."""

from __future__ import annotations

from Connectors.core.config import RateSpec, http_url
from Connectors.core.profile import AuthScheme, CredentialKind, Setting, VendorProfile

# No published limit: stay well below anything a small SaaS would enforce.
RATE = RateSpec(5, 1, burst=10)
DEFAULT_CHUNK_SIZE = 100

ROBOSTACK = VendorProfile(
    name="Robostack",
    default_url="https://api.robostack.ai",
    site="https://robostack.ai",
    summary="the low-code application platform",
    settings=(
        Setting("app_uuid", "ROBOSTACK_APP_UUID", ("app_uuid", "appUUID"), doc="the application's appUUID"),
        Setting(
            "api_key",
            "ROBOSTACK_API_KEY",
            ("api_key", "key", "token_key"),
            secret=True,
            doc="the Token Key (My Account), granted to the application",
        ),
        Setting(
            "api_secret",
            "ROBOSTACK_API_SECRET",
            ("api_secret", "secret", "token_secret"),
            secret=True,
            doc="the Token Secret",
        ),
        Setting("url", "ROBOSTACK_URL", default="https://api.robostack.ai", doc="the API host", parse=http_url),
        Setting(
            "chunk_size",
            "ROBOSTACK_CHUNK_SIZE",
            default=str(DEFAULT_CHUNK_SIZE),
            doc="records per create request",
            kind=int,
        ),
    ),
    credentials=(
        CredentialKind(
            "a token granted to the application",
            AuthScheme.HEADERS,
            ("app_uuid", "api_key", "api_secret"),
            headers={"x-api-key": "{api_key}", "x-api-secret": "{api_secret}"},
            identity=("app_uuid", "api_key"),
        ),
    ),
    connect_details="``chunk_size`` is how many records `Create Robostack Records` sends per request (default 100).",
    connect_examples="""
        | Connect To Robostack | ${APP_UUID} | %{ROBOSTACK_API_KEY} | %{ROBOSTACK_API_SECRET} |
        | Connect To Robostack | vault_secret=robostack |
    """,
    rate=RATE,
    rate_published=False,
    hints={
        400: "Fix the request body as the message says.",
        401: "Check ROBOSTACK_API_KEY and ROBOSTACK_API_SECRET (the Token Key and Token Secret from My Account).",
        403: "The token is valid but not granted to this application: add it under the application's API Access "
        "> Add Token Access, or check ROBOSTACK_APP_UUID.",
        404: "Check the application UUID (ROBOSTACK_APP_UUID) and the resource name - or {url_setting}, when "
        "every call answers 404.",
    },
)
