"""Robaws, described once: settings, credentials, limits, headers, OAuth endpoints, errors and hints."""

from __future__ import annotations

from Connectors.core.config import RateSpec, http_url
from Connectors.core.error_format import ErrorFormat
from Connectors.core.profile import (
    AuthScheme,
    CredentialKind,
    OAuthEndpoints,
    Setting,
    VendorProfile,
    oauth_client_settings,
)
from Connectors.core.throttle import RateLimitHeaders

RATE = RateSpec(15, 1, burst=20)
DAILY_QUOTA = 10_000
MAX_UPLOAD_MB = 6

ROBAWS = VendorProfile(
    name="Robaws",
    default_url="https://app.robaws.com",
    site="https://robaws.com",
    summary="the ERP for construction and field-service companies",
    rate_status_keys=(
        ", ``daily_remaining`` and ``daily_reset_seconds`` per mode, ``daily_limit``, and the current ``mode``"
    ),
    api_path="/api/v2",
    settings=(
        Setting("url", "ROBAWS_URL", default="https://app.robaws.com", doc="the Robaws site", parse=http_url),
        Setting("username", "ROBAWS_USERNAME", doc="HTTP Basic: the API user"),
        Setting("password", "ROBAWS_PASSWORD", secret=True, doc="HTTP Basic: its password"),
        *oauth_client_settings("robaws"),
        Setting(
            "webhook_secret",
            "ROBAWS_WEBHOOK_SECRET",
            secret=True,
            doc="the webhooks' signing secret (`Verify Robaws Webhook`, ``connectors webhooks serve``)",
        ),
    ),
    credentials=(
        CredentialKind(
            "HTTP Basic",
            AuthScheme.BASIC,
            ("username", "password"),
            identity=("username",),
            hints={
                401: "Check ROBAWS_USERNAME and ROBAWS_PASSWORD (or the Vault secret), or connect with OAuth "
                "after 'connectors login robaws'.",
            },
        ),
        CredentialKind(
            "an OAuth2 client",
            AuthScheme.OAUTH,
            ("client_id", "client_secret"),
            hints={
                401: "The OAuth2 token was refused even after a refresh: run 'connectors login robaws' again "
                "(token store {store_path}, key {store_key!r}).",
            },
        ),
    ),
    connect_details="The OAuth2 client uses the tokens that ``connectors login robaws`` stored in ``token_store``.",
    connect_examples="""
        | Connect To Robaws | username=api@example.be | password=%{ROBAWS_PASSWORD} |
        | Connect To Robaws | client_id=my-app | client_secret=${CLIENT_SECRET} | token_store=tokens.json |
        | Connect To Robaws | vault_secret=robaws | rate_limit=10/s |
    """,
    rate=RATE,
    daily_quota=DAILY_QUOTA,
    rate_headers=RateLimitHeaders(
        remaining="X-RateLimit-Remaining",
        daily_remaining="X-RateLimit-Daily-Remaining",
        daily_limit="X-RateLimit-Daily-Limit",
        daily_reset="X-RateLimit-Daily-Reset",
    ),
    idempotency_header="Idempotency-Key",
    oauth=OAuthEndpoints(
        authorize_path="/oauth2/authorize",
        token_path="/oauth2/tokens",
        scopes=(
            "settings",
            "clients",
            "work-orders",
            "planning-items",
            "employees",
            "materials",
            "installations",
            "profile",
            "projects",
            "articles",
            "posts",
            "sales-orders",
            "stock-changes",
            "offers",
            "users",
        ),
    ),
    # {"message": …, "errors": [{"field", "message" | "defaultMessage"}]}
    error_format=ErrorFormat(message=("message", "error_description", "error")),
    hints={
        403: "The API user's role (or the OAuth token's scope) lacks this module: give the role access to it "
        "in Robaws, or log in again requesting the scope.",
        404: "Check the collection name (e.g. clients, purchase-invoices) and the id - or {url_setting}, when "
        "every call answers 404.",
        405: "Writes need live mode: call 'Use Robaws Live Mode' (use_live_mode()) first.",
        409: "A request with the same idempotency key is still running, or the operation is already in progress "
        "(e.g. a pending approval): wait, then check the entity's state.",
        413: f"Robaws takes at most {MAX_UPLOAD_MB} MB in one request: upload the file with 'Upload Robaws "
        "Document' without chunked=False, so it goes in parts.",
        415: "Robaws PATCH needs Content-Type application/merge-patch+json or application/json-patch+json.",
        429: "Robaws may block integrations that hit 429 often: lower ROBAWS_RATE_LIMIT, share the throttle "
        "between parallel robots (CONNECTORS_THROTTLE_STORE, CONNECTORS_THROTTLE_WORKERS) or read in replica mode.",
    },
)
