"""From resolved settings to a working transport: the auth, the throttle and the transport config.

This is the one path every connector takes from its profile to the wire, so a setting means the
same thing for every vendor (``rate_limit``, ``burst``, ``rate_scale``, ``daily_quota``, ``timeout``,
``throttle_store``, ``workers``).
"""

from __future__ import annotations

from collections.abc import Sequence

import requests

from Connectors.core import log
from Connectors.core.auth import Auth, BasicAuth, BearerAuth, HeaderAuth, OAuth2Auth, fingerprint
from Connectors.core.config import RateSpec
from Connectors.core.errors import ConfigurationError
from Connectors.core.profile import AuthScheme, LimitScope
from Connectors.core.retry import RetryPolicy
from Connectors.core.settings import ResolvedSettings
from Connectors.core.throttle import EndpointLimit, Throttle, workers_from
from Connectors.core.tokens import open_token_store
from Connectors.core.transport import HintHook, Transport, TransportConfig

_OFF = ("none", "off", "unlimited", "0")


def site_url(settings: ResolvedSettings) -> str:
    """The vendor URL the user configured, without the API path (accepted with it as well)."""
    profile = settings.profile
    url = str(settings.get("url") or profile.default_url).strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"The {profile.name} URL {url!r} is not an http(s) URL.",
            hint=f"Set {settings.source('url')} to e.g. {profile.default_url}.",
        )
    if profile.api_path and url.endswith(profile.api_path):
        url = url[: -len(profile.api_path)]
    return url


def describe_url(settings: ResolvedSettings) -> str:
    """How the URL was set, for messages: ``ROBAWS_URL (now http://…)`` or the default's name."""
    profile = settings.profile
    url = site_url(settings)
    variable = profile.setting("url").variable or "url"
    if settings.source("url") == "the default":
        return f"{variable} (not set, so the production default {url})"
    return f"{settings.source('url')} (now {url})"


def build_auth(settings: ResolvedSettings) -> Auth:
    kind, profile = settings.kind, settings.profile
    first = [settings.require(name) for name in kind.settings]
    if kind.scheme is AuthScheme.BASIC:
        return BasicAuth(first[0], first[1])
    if kind.scheme is AuthScheme.BEARER:
        return BearerAuth(first[0])
    if kind.scheme is AuthScheme.OAUTH:
        if profile.oauth is None:
            raise ConfigurationError(f"{profile.name} has no OAuth endpoints.")
        client_id = settings.require("client_id")
        return OAuth2Auth(
            open_token_store(settings.text("token_store"), lock_store=settings.text("throttle_store")),
            profile.token_store_key(client_id),
            site_url(settings) + profile.oauth.token_path,
            client_id,
            settings.text("client_secret"),
            login=f"connectors login {profile.key}",
        )
    values = {name: settings.text(name) or "" for name in kind.all_settings}
    headers = {name: template.format(**values) for name, template in kind.headers.items()}
    secrets = tuple(values[name] for name in kind.all_settings if profile.setting(name).secret and values[name])
    return HeaderAuth(headers, identity=_identity(settings), secrets=secrets)


def _identity(settings: ResolvedSettings) -> str:
    parts = []
    for name in settings.kind.identity:
        value = settings.text(name) or ""
        parts.append(fingerprint(value) if settings.profile.setting(name).secret else value)
    return "-".join(parts) or "anonymous"


def rate_of(settings: ResolvedSettings) -> RateSpec | None:
    """The client-side limit: ``rate_limit`` / ``burst`` when set, else the profile's, times ``rate_scale``."""
    profile = settings.profile
    text, burst = settings.text("rate_limit"), settings.text("burst")
    if text and text.strip().lower() in _OFF:
        return None
    if text and text.strip().lower() != "default":
        rate: RateSpec | None = RateSpec.parse(text, burst)
    else:
        rate = profile.rate.with_burst(int(burst)) if profile.rate and burst else profile.rate
    return _scaled(rate, scale_of(settings)) if rate else None


def _scaled(rate: RateSpec, scale: float) -> RateSpec:
    if scale == 1:
        return rate
    # A paced limit (burst 1) stays paced: spacing, not bursting, is what keeps it under a vendor that
    # counts requests in windows.
    return rate.scaled(scale) if rate.capacity > 1 else RateSpec(rate.limit * scale, rate.period, rate.burst)


def scale_of(settings: ResolvedSettings) -> float:
    text = settings.text("rate_scale") or "1"
    try:
        scale = float(text)
    except ValueError:
        scale = 0
    if scale <= 0:
        raise ConfigurationError(
            f"Invalid {settings.profile.name} rate scale {text!r}.",
            hint=f"{settings.source('rate_scale')} multiplies the vendor's limits: use a positive number.",
        )
    return scale


def daily_quota_of(settings: ResolvedSettings) -> int | None:
    text = settings.text("daily_quota")
    if not text or text.strip().lower() in _OFF:
        return None
    try:
        return int(text)
    except ValueError:
        raise ConfigurationError(
            f"Invalid daily quota {text!r}.",
            hint=f"Set {settings.source('daily_quota')} to a number of requests per day, or 'none'.",
        ) from None


def timeouts_of(settings: ResolvedSettings) -> tuple[float, float]:
    text = settings.text("timeout")
    if not text:
        return 10.0, 60.0
    try:
        read = float(text)
    except ValueError:
        read = 0
    if read <= 0:
        raise ConfigurationError(f"Invalid timeout {text!r}.", hint="Give the seconds to wait, e.g. 30.")
    return min(10.0, read), read


def hints_for(settings: ResolvedSettings, auth: Auth) -> dict[int, str]:
    """The profile's hints with the credential kind's on top, their ``{fields}`` filled in."""
    fields = {**settings.public(), "url": site_url(settings), "url_setting": describe_url(settings)}
    if isinstance(auth, OAuth2Auth):
        fields.update(store_path=auth.store.location, store_key=auth.key)
    merged = {**settings.profile.hints, **settings.kind.hints}
    return {status: text.format_map(_Blank(fields)) for status, text in merged.items()}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def build_transport(
    settings: ResolvedSettings,
    auth: Auth,
    *,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
    hint_hook: HintHook | None = None,
    trusted_origins: Sequence[str] = (),
) -> Transport:
    profile = settings.profile
    site = site_url(settings)
    rate = rate_of(settings)
    scale = scale_of(settings)
    limits: list[EndpointLimit] = [
        EndpointLimit(limit.pattern, _scaled(limit.rate, scale), limit.method, limit.name)
        for limit in profile.endpoint_limits
    ]
    # The key names the vendor, the tenant and the credential's public identity - never a secret.
    # The daily quota belongs to the tenant, whichever of its users calls.
    tenant = profile.key if profile.limit_scope is LimitScope.CREDENTIAL else site
    throttle = Throttle(
        f"{profile.key}:{tenant}:{auth.identity}",
        rate,
        vendor=profile.name,
        daily_quota=daily_quota_of(settings),
        quota_key=f"{profile.key}:{site}",
        endpoint_limits=limits,
        store_url=settings.text("throttle_store"),
        workers=workers_from(settings.text("workers"), settings.source("workers")),
        headers=profile.rate_headers,
        log=log.info,
        warn=log.warn,
    )
    connect, read = timeouts_of(settings)
    config = TransportConfig(
        vendor=profile.name,
        base_url=site + profile.api_path,
        auth=auth,
        throttle=throttle,
        retry=retry or RetryPolicy(),
        connect_timeout=connect,
        read_timeout=read,
        idempotency_header=profile.idempotency_header,
        max_idempotency_key=profile.max_idempotency_key,
        default_headers=dict(profile.default_headers),
        error_format=profile.error_format,
        hints=hints_for(settings, auth),
        hint_hook=hint_hook,
        url_setting=describe_url(settings),
        trusted_origins=tuple(trusted_origins),
    )
    return Transport(config, session)
