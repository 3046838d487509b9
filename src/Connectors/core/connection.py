"""From a resolved ``Connection`` to a working transport: the auth, the throttle and the transport config.

This is the one path every connector takes from its profile to the wire, so a setting means the
same thing for every vendor. Every value here was parsed and derived once, by ``core.settings``.
"""

from __future__ import annotations

from collections.abc import Sequence

import requests

from Connectors.core import log
from Connectors.core.auth import Auth, BasicAuth, BearerAuth, HeaderAuth, OAuth2Auth, fingerprint
from Connectors.core.errors import ConfigurationError
from Connectors.core.profile import AuthScheme, LimitScope
from Connectors.core.retry import RetryPolicy
from Connectors.core.settings import Connection, scaled
from Connectors.core.throttle import EndpointLimit, Throttle
from Connectors.core.tokens import open_token_store
from Connectors.core.transport import Transport, TransportConfig


def build_auth(connection: Connection) -> Auth:
    kind, profile = connection.kind, connection.profile
    first = [connection.require(name) for name in kind.settings]
    if kind.scheme is AuthScheme.BASIC:
        return BasicAuth(first[0], first[1])
    if kind.scheme is AuthScheme.BEARER:
        return BearerAuth(first[0])
    if kind.scheme is AuthScheme.OAUTH:
        if profile.oauth is None:
            raise ConfigurationError(f"{profile.name} has no OAuth endpoints.")
        client_id = connection.require("client_id")
        return OAuth2Auth(
            open_token_store(connection.token_store, lock_store=connection.throttle_store),
            profile.token_store_key(client_id),
            connection.site_url + profile.oauth.token_path,
            client_id,
            connection.text("client_secret"),
            login=f"connectors login {profile.key}",
        )
    values = {name: connection.text(name) or "" for name in kind.all_settings}
    headers = {name: template.format(**values) for name, template in kind.headers.items()}
    secrets = tuple(values[name] for name in kind.all_settings if profile.setting(name).secret and values[name])
    return HeaderAuth(headers, identity=_identity(connection), secrets=secrets)


def _identity(connection: Connection) -> str:
    parts = []
    for name in connection.kind.identity:
        value = connection.text(name) or ""
        parts.append(fingerprint(value) if connection.profile.setting(name).secret else value)
    return "-".join(parts) or "anonymous"


def hints_for(connection: Connection, auth: Auth) -> dict[int, str]:
    """The profile's hints with the credential kind's on top, their ``{fields}`` filled in.

    The one source of an error's hint; a call with context of its own rebuilds the error with
    ``error.replace(hint=…)``.
    """
    fields = {**connection.public(), "url": connection.site_url, "url_setting": connection.url_setting}
    if isinstance(auth, OAuth2Auth):
        fields.update(store_path=auth.store.location, store_key=auth.key)
    merged = {**connection.profile.hints, **connection.kind.hints}
    return {status: text.format_map(_Blank(fields)) for status, text in merged.items()}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def build_throttle(connection: Connection, auth: Auth) -> Throttle:
    profile, site = connection.profile, connection.site_url
    limits = [
        EndpointLimit(limit.pattern, scaled(limit.rate, connection.rate_scale), limit.method, limit.name)
        for limit in profile.endpoint_limits
    ]
    # The key names the vendor, the tenant and the credential's public identity - never a secret.
    # The daily quota belongs to the tenant, whichever of its users calls.
    tenant = profile.key if profile.limit_scope is LimitScope.CREDENTIAL else site
    return Throttle(
        f"{profile.key}:{tenant}:{auth.identity}",
        connection.rate,
        vendor=profile.name,
        daily_quota=connection.daily_quota,
        quota_key=f"{profile.key}:{site}",
        endpoint_limits=limits,
        store_url=connection.throttle_store,
        workers=connection.workers,
        headers=profile.rate_headers,
        log=log.info,
        warn=log.warn,
    )


def build_transport(
    connection: Connection,
    auth: Auth,
    *,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
    trusted_origins: Sequence[str] = (),
) -> Transport:
    profile = connection.profile
    config = TransportConfig(
        vendor=profile.name,
        base_url=connection.base_url,
        auth=auth,
        throttle=build_throttle(connection, auth),
        retry=retry or RetryPolicy(),
        connect_timeout=connection.connect_timeout,
        read_timeout=connection.read_timeout,
        idempotency_header=profile.idempotency_header,
        max_idempotency_key=profile.max_idempotency_key,
        default_headers=dict(profile.default_headers),
        error_format=profile.error_format,
        hints=hints_for(connection, auth),
        url_setting=connection.url_setting,
        trusted_origins=tuple(trusted_origins),
    )
    return Transport(config, session)
