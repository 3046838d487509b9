"""Cobot, described once: settings, credentials, limits, OAuth endpoints, errors and hints."""

from __future__ import annotations

from Connectors.core.config import RateSpec, http_url
from Connectors.core.error_format import ErrorFormat
from Connectors.core.profile import (
    AuthScheme,
    CredentialKind,
    LimitScope,
    OAuthEndpoints,
    Setting,
    VendorProfile,
    oauth_client_settings,
)
from Connectors.core.throttle import EndpointLimit

# Cobot counts "requests per minute"; whether in fixed windows, sliding windows or a bucket is not
# documented. Evenly spaced requests (burst 1) stay under it in any minute whatever the server counts;
# a bigger burst could be refused at a window boundary.
RATE = RateSpec(60, 60, burst=1)
MEMBERSHIPS_RATE = RateSpec(6, 60, burst=1)

COBOT = VendorProfile(
    name="Cobot",
    default_url="https://www.cobot.me",
    summary="the management software of coworking spaces",
    settings=(
        Setting(
            "url", "COBOT_URL", default="https://www.cobot.me", doc="Cobot; space URLs derive from it", parse=http_url
        ),
        Setting("access_token", "COBOT_ACCESS_TOKEN", secret=True, doc="an OAuth2 access token"),
        *oauth_client_settings("cobot"),
        Setting("space", "COBOT_SPACE", ("space", "subdomain"), doc="default space subdomain of space keywords"),
        Setting(
            "space_url_template",
            "COBOT_SPACE_URL_TEMPLATE",
            doc="a space's URL when it does not follow from ``COBOT_URL``, e.g. ``https://{subdomain}.example``",
        ),
        Setting("api_url", "COBOT_API_URL", default="https://api.cobot.me", doc="Cobot's API 2 (JSON:API)"),
        Setting(
            "api",
            "COBOT_API",
            default="2",
            doc="``2``: keywords speak API 2 where it has the operation; ``1``: API 1 answers, as before",
        ),
        Setting(
            "webhook_token",
            "COBOT_WEBHOOK_TOKEN",
            secret=True,
            doc="the secret path token of the receiver's ``/webhooks/cobot/<token>`` (Cobot signs nothing)",
        ),
        Setting(
            "webhook_dropped_tokens",
            "COBOT_WEBHOOK_DROPPED_TOKENS",
            secret=True,
            doc="comma-separated tokens of dropped subscriptions, answered ``410 Gone`` by the receiver",
        ),
    ),
    credentials=(
        CredentialKind(
            "an access token",
            AuthScheme.BEARER,
            ("access_token",),
            identity=("access_token",),
            hints={
                401: "The access token is invalid or was revoked: set COBOT_ACCESS_TOKEN to a valid token, or log "
                "in with 'connectors login cobot'.",
            },
        ),
        CredentialKind(
            "an OAuth2 client",
            AuthScheme.OAUTH,
            ("client_id",),
            # Cobot's tokens are long-lived; the secret is only needed if one ever comes with a refresh token.
            optional=("client_secret",),
            hints={
                401: "The stored token was refused: run 'connectors login cobot' again (token store {store_path}, "
                "key {store_key!r}).",
            },
        ),
    ),
    connect_details="``space`` is the default space of the space keywords; space URLs follow from ``url``.",
    connect_examples="""
        | Connect To Cobot | access_token=%{COBOT_ACCESS_TOKEN} | space=my-space |
        | Connect To Cobot | client_id=my-app | token_store=tokens.json |
    """,
    rate=RATE,
    rate_note="60 requests a minute per user, 6 a minute for the list of memberships, evenly spaced",
    limit_scope=LimitScope.CREDENTIAL,
    endpoint_limits=(EndpointLimit(r"/api/memberships$", MEMBERSHIPS_RATE, method="GET", name="memberships"),),
    oauth=OAuthEndpoints(
        authorize_path="/oauth/authorize",
        token_path="/oauth/access_token",
        # Every keyword's scope, API 1 and API 2 alike (API 2's are in its spec: vendors/cobot/operations.py).
        scopes=(
            "openid",
            "read_user",
            "read_spaces",
            "read_memberships",
            "read_invoices",
            "read_bookings",
            "write_bookings",
            "read_events",
            "read_external_bookings",
            "read_resources",
            "read_check_ins",
            "write_check_ins",
            "read_contacts",
            "read_teams",
            "read_time_passes",
            "read_subscriptions",
            "write_subscriptions",
        ),
        openid=True,
    ),
    # API 1: {"errors": {"field": "message" | [messages]}} (422) or {"error": "…"};
    # API 2 (JSON:API): {"errors": [{"status", "detail", "source": {"pointer": "/data/attributes/name"}}]}.
    error_format=ErrorFormat(
        message=("error_description", "message", "error"),
        field_prefixes=("/data/attributes/", "/data/relationships/", "/data/"),
    ),
    hints={
        403: "The token lacks the scope for this call, or the user is not an admin of the space (an admin's "
        "permissions may have been reduced): log in again with the scope, e.g. 'connectors login cobot --scope "
        "read_invoices'.",
        404: "Check the space subdomain and the id.",
        409: "It exists already: list the existing ones first.",
        422: "Fix the fields named above and try again.",
        429: "Cobot allows 60 requests per minute per user (memberships: 6 per minute): lower COBOT_RATE_LIMIT, or "
        "share the throttle between robots of one user with CONNECTORS_THROTTLE_STORE.",
    },
)
