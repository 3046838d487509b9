"""What every vendor client shares: settings from arguments or environment, transport and throttle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from Connectors.core import log
from Connectors.core.auth import Auth
from Connectors.core.config import RateSpec, env, secret_value
from Connectors.core.retry import RetryPolicy
from Connectors.core.throttle import EndpointLimit, RateLimitHeaders, Throttle, workers_from
from Connectors.core.transport import Transport, TransportConfig
from Connectors.core.vault import get_secret


def rate_from(
    prefix: str, default: RateSpec | None, rate_limit: str | RateSpec | None = None, burst: int | str | None = None
) -> RateSpec | None:
    """The client-side limit: argument, else ``<PREFIX>_RATE_LIMIT`` / ``_RATE_BURST``, else the default."""
    text = rate_limit if rate_limit not in (None, "") else env(f"{prefix}_RATE_LIMIT")
    burst_value = burst if burst not in (None, "") else env(f"{prefix}_RATE_BURST")
    if text in (None, "") or str(text).lower() in ("default",):
        if default is None:
            return None
        return default.with_burst(int(burst_value)) if burst_value not in (None, "") else default  # type: ignore[arg-type]
    if str(text).lower() in ("none", "off", "unlimited"):
        return None
    return RateSpec.parse(text, burst_value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Setting:
    """One connection setting and where it may come from."""

    argument: Any  # the value passed in the call: str, Robot Framework Secret or None
    variable: str  # the environment variable
    vault_keys: tuple[str, ...]  # names accepted in a Vault secret, first match wins (any case)
    secret: bool = False  # registered for redaction
    required: bool = True


def layered_settings(settings: Mapping[str, Setting], vault_secret: str | None = None) -> dict[str, str | None]:
    """Each setting from the first source that has it, in the one order every connector uses:

    the call's argument → the Vault secret named by ``vault_secret`` → the environment variable →
    the Vault secret named by ``CONNECTORS_VAULT_SECRET`` (read only while a required setting is missing).
    """

    def pick(values: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
        lowered = {k.lower(): v for k, v in values.items()}
        return next((lowered[k.lower()] for k in keys if lowered.get(k.lower())), None)

    named = get_secret(vault_secret) if vault_secret else {}
    values: dict[str, str | None] = {}
    for name, setting in settings.items():
        given = secret_value(setting.argument) if setting.secret else (setting.argument or None)
        values[name] = given or pick(named, setting.vault_keys) or env(setting.variable)
    fallback = env("CONNECTORS_VAULT_SECRET")
    if fallback and not vault_secret and any(not values[n] for n, s in settings.items() if s.required):
        shared = get_secret(fallback)
        for name, setting in settings.items():
            values[name] = values[name] or pick(shared, setting.vault_keys)
    for name, setting in settings.items():
        if setting.secret:
            values[name] = secret_value(values[name])
    return values


class BaseClient:
    """Holds a ``Transport``; vendor clients add typed methods on top."""

    vendor = "Vendor"
    env_prefix = "VENDOR"

    def __init__(
        self,
        *,
        base_url: str,
        auth: Auth,
        default_rate: RateSpec | None,
        rate_limit: str | RateSpec | None = None,
        burst: int | str | None = None,
        daily_quota: int | None = None,
        endpoint_limits: Sequence[EndpointLimit] = (),
        rate_headers: RateLimitHeaders | None = None,
        throttle_store: str | None = None,
        throttle_scope: str = "",
        throttle_workers: int | str | None = None,
        quota_scopes: Sequence[str] = (),
        retry: RetryPolicy | None = None,
        timeout: float | tuple[float, float] | None = None,
        idempotency_header: str | None = None,
        default_headers: dict[str, str] | None = None,
        error_message: Any = None,
        hints: dict[int, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        rate = rate_from(self.env_prefix, default_rate, rate_limit, burst)
        store = throttle_store if throttle_store is not None else env("CONNECTORS_THROTTLE_STORE", "memory")
        # The key names the vendor, the server and the credential's public identity - never a secret.
        # The daily quota belongs to the tenant (the server), whichever of its users calls.
        tenant = f"{self.env_prefix.lower()}:{throttle_scope or base_url}"
        self.throttle = Throttle(
            f"{tenant}:{auth.identity}",
            rate,
            vendor=self.vendor,
            daily_quota=daily_quota,
            quota_key=tenant,
            quota_scopes=quota_scopes,
            endpoint_limits=endpoint_limits,
            store_url=store,
            workers=workers_from(throttle_workers),
            headers=rate_headers,
            log=log.info,
            warn=log.warn,
        )
        if isinstance(timeout, (int, float)):
            connect, read = min(10.0, float(timeout)), float(timeout)
        elif timeout:
            connect, read = timeout
        else:
            connect, read = 10.0, 60.0
        config = TransportConfig(
            vendor=self.vendor,
            base_url=base_url,
            auth=auth,
            throttle=self.throttle,
            retry=retry or RetryPolicy(),
            connect_timeout=connect,
            read_timeout=read,
            idempotency_header=idempotency_header,
            default_headers=default_headers or {},
            hints=hints or {},
        )
        if error_message is not None:
            config.error_message = error_message
        self.transport = Transport(config, session)
        self.auth = auth
        self.base_url = base_url

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def rate_limit_status(self) -> dict[str, Any]:
        status = self.throttle.status.as_dict()
        status.update(requests=self.transport.stats["requests"], retries=self.transport.stats["retries"])
        return status
