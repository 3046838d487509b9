"""Where each connection setting comes from, and the one frozen ``Connection`` they make.

For every setting the first source that has it wins:

1. the argument (constructor, connect keyword or library import);
2. the Vault secret named by the ``vault_secret`` argument;
3. the setting's environment variable (``ROBAWS_USERNAME`` …);
4. the Vault secret named by ``CONNECTORS_VAULT_SECRET`` - read only while a required setting is
   still missing, because it may belong to another vendor;
5. the setting's default.

A vendor with several kinds of credentials (HTTP Basic or an OAuth client, say) takes the kind that
appears in the earliest source; within one source, the kind listed first in its profile.

Each value is parsed once, by its ``Setting`` (``Setting.read``), and what follows from several settings
(the site URL, the rate, the timeouts) is derived once, here: the ``Connection`` is all a client, the
transport and the throttle read. Nothing else reads a connection setting from the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePath
from types import MappingProxyType
from typing import Any

from Connectors.core.config import Invalid, RateSpec, env, secret_value
from Connectors.core.errors import ConfigurationError
from Connectors.core.profile import AuthScheme, CredentialKind, Setting, VendorProfile
from Connectors.core.vault import get_secret

Lookup = Callable[[Setting], Any]
DEFAULT_SOURCE = "the default"
#: The settings every profile has (``profile.common_settings``); the rest are the vendor's own.
COMMON = frozenset(
    {"vault_secret", "rate_limit", "burst", "rate_scale", "daily_quota", "timeout", "throttle_store", "workers"}
)


@dataclass(frozen=True)
class Connection:
    """One vendor connection, resolved once: every setting parsed, where each came from, and what follows.

    ``values`` holds each setting's parsed value (``None``: not set); ``sources`` how it was set
    (``ROBAWS_URL``, ``the url argument``, ``Vault secret 'robaws', key url``, ``the default``).
    """

    profile: VendorProfile
    kind: CredentialKind
    values: Mapping[str, Any]
    sources: Mapping[str, str]
    #: The vendor URL without the API path (accepted with it as well).
    site_url: str
    #: The client-side limit: ``rate_limit`` / ``burst`` over the profile's, times ``rate_scale``; None: off.
    rate: RateSpec | None
    rate_scale: float
    daily_quota: int | None
    connect_timeout: float
    read_timeout: float
    workers: int
    throttle_store: str
    #: The OAuth token file (``None``: the token store's default), for vendors with OAuth clients.
    token_store: str | None

    @property
    def base_url(self) -> str:
        return self.site_url + self.profile.api_path

    @property
    def url_setting(self) -> str:
        """How the URL was set, for messages: ``ROBAWS_URL (now http://…)`` or the default's name."""
        if self.source("url") == DEFAULT_SOURCE:
            variable = self.profile.setting("url").variable or "url"
            return f"{variable} (not set, so the production default {self.site_url})"
        return f"{self.source('url')} (now {self.site_url})"

    @property
    def credentials(self) -> dict[str, Any]:
        """The chosen kind's settings (secrets as their plain text)."""
        return {name: self.values.get(name) for name in self.kind.all_settings}

    @property
    def extras(self) -> dict[str, Any]:
        """The vendor's own settings beyond the URL, the credentials and the common ones."""
        taken = COMMON | {"url"} | {name for kind in self.profile.credentials for name in kind.all_settings}
        return {name: self.values.get(name) for name in self.profile.setting_names if name not in taken}

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else str(value)

    def require(self, name: str) -> str:
        value = self.text(name)
        if not value:
            raise _missing(self.profile, self.profile.setting(name), self.kind)
        return value

    def source(self, name: str) -> str:
        """How the user set ``name``, for messages: ``ROBAWS_URL``, ``the url argument`` …"""
        return self.sources.get(name, DEFAULT_SOURCE)

    def public(self) -> dict[str, str]:
        """The values that are not secret, as text (for hint templates and messages)."""
        return {
            setting.name: str(self.values[setting.name])
            for setting in self.profile.settings
            if not setting.secret and self.values.get(setting.name) is not None
        }


#: The former name of ``Connection``.
ResolvedSettings = Connection


def resolve(
    profile: VendorProfile,
    arguments: Mapping[str, Any],
    *,
    scheme: AuthScheme | None = None,
    complete: bool = True,
) -> Connection:
    """Each of the profile's settings from the first source that has it (see the module docstring).

    ``scheme`` picks the credential kind instead of the sources (``connectors login`` wants OAuth);
    ``complete=False`` leaves missing credential settings to the caller (to ask for them).
    """
    unknown = set(arguments) - set(profile.setting_names)
    if unknown:
        raise ConfigurationError(
            f"Unknown {profile.name} setting(s): {', '.join(sorted(unknown))}.",
            hint=f"Known settings: {', '.join(profile.setting_names)}.",
        )
    layers, shared_layer = _layers(profile, arguments)
    forced = [kind for kind in profile.credentials if kind.scheme is scheme]
    kind = forced[0] if forced else _choose_kind(profile, layers)
    if kind is None and shared_layer:
        layers.append(shared_layer())
        shared_layer = None
        kind = _choose_kind(profile, layers)
    if kind is None:
        raise _no_credentials(profile)
    values, sources = _lookup(profile, layers)
    if shared_layer and any(values.get(name) is None for name in kind.settings):
        layers.append(shared_layer())
        values, sources = _lookup(profile, layers)
    connection = _connection(profile, kind, values, sources)
    for name in kind.settings if complete else ():
        connection.require(name)
    return connection


def lookup(profile: VendorProfile, name: str, arguments: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """One setting, parsed, and its source - in the same order, without choosing credentials.

    For a setting used apart from a connection (the webhook receiver's secrets).
    """
    layers, shared_layer = _layers(profile, arguments or {})
    if shared_layer:
        layers.append(shared_layer())
    setting = profile.setting(name)
    values, sources = _lookup(profile, layers, (setting,))
    value = values.get(name)
    if value is None and setting.default is not None:
        value, sources[name] = setting.default, DEFAULT_SOURCE
    source = sources.get(name, DEFAULT_SOURCE)
    return (None if value is None else _parse(profile, setting, value, source)), source


def _layers(
    profile: VendorProfile, arguments: Mapping[str, Any]
) -> tuple[list[tuple[str, Lookup]], Callable[[], tuple[str, Lookup]] | None]:
    """The sources in order, and the shared Vault secret's, to add only when it is needed."""
    vault_name = _plain(arguments.get("vault_secret"))
    layers: list[tuple[str, Lookup]] = [("argument", lambda s: _argument(s, arguments.get(s.name)))]
    if vault_name:
        named = get_secret(str(vault_name))
        layers.append((f"Vault secret {vault_name!r}", lambda s: _pick(named, s)))
    layers.append(("variable", lambda s: env(s.variable) if s.variable else None))
    shared_name = None if vault_name else env("CONNECTORS_VAULT_SECRET")
    if not shared_name:
        return layers, None
    shared: dict[str, str] = {}

    def shared_layer() -> tuple[str, Lookup]:
        if not shared:
            shared.update(get_secret(str(shared_name)))
        return f"Vault secret {shared_name!r} (CONNECTORS_VAULT_SECRET)", lambda s: _pick(shared, s)

    return layers, shared_layer


def _connection(
    profile: VendorProfile, kind: CredentialKind, found: dict[str, Any], sources: dict[str, str]
) -> Connection:
    values: dict[str, Any] = {}
    for setting in profile.settings:
        value = found.get(setting.name)
        if value is None and setting.default is not None:
            value = setting.default
            sources[setting.name] = DEFAULT_SOURCE
        values[setting.name] = (
            None if value is None else _parse(profile, setting, value, sources.get(setting.name, DEFAULT_SOURCE))
        )
    url = values.get("url") or profile.default_url
    if profile.api_path and url.endswith(profile.api_path):
        url = url[: -len(profile.api_path)]
    scale = values.get("rate_scale") or 1.0
    read = values.get("timeout")
    quota = values.get("daily_quota")
    return Connection(
        profile=profile,
        kind=kind,
        values=MappingProxyType(values),
        sources=MappingProxyType(sources),
        site_url=url,
        rate=_rate(profile, values.get("rate_limit"), values.get("burst"), scale),
        rate_scale=scale,
        daily_quota=quota or None,
        connect_timeout=min(10.0, read) if read else 10.0,
        read_timeout=read or 60.0,
        workers=values.get("workers") or 1,
        throttle_store=values.get("throttle_store") or "memory",
        token_store=values.get("token_store"),
    )


def _rate(profile: VendorProfile, limit: RateSpec | bool | None, burst: int | None, scale: float) -> RateSpec | None:
    if limit is False:
        return None
    rate = limit if isinstance(limit, RateSpec) else profile.rate
    if rate is None:
        return None
    return scaled(rate.with_burst(burst), scale)


def scaled(rate: RateSpec, scale: float) -> RateSpec:
    """``rate`` times ``scale``; a paced limit (burst 1) stays paced."""
    if scale == 1:
        return rate
    # Spacing, not bursting, is what keeps a paced limit under a vendor that counts requests in windows.
    return rate.scaled(scale) if rate.capacity > 1 else RateSpec(rate.limit * scale, rate.period, rate.burst)


def _parse(profile: VendorProfile, setting: Setting, value: Any, source: str) -> Any:
    try:
        return setting.read(value)
    except Invalid as error:
        example = f", e.g. {setting.default}" if setting.default else ""
        raise ConfigurationError(
            f"Invalid {setting.label} {value!r} for {profile.name}.",
            hint=f"Set {_where(setting, source)} to {error}{example}.",
        ) from None


def _where(setting: Setting, source: str) -> str:
    return f"{setting.name}=" if source == DEFAULT_SOURCE else source


def _choose_kind(profile: VendorProfile, layers: list[tuple[str, Lookup]]) -> CredentialKind | None:
    if len(profile.credentials) == 1:
        return profile.credentials[0]
    shared_by_all = set.intersection(*(set(kind.all_settings) for kind in profile.credentials))
    for _label, lookup in layers:
        for kind in profile.credentials:
            markers = [name for name in kind.all_settings if name not in shared_by_all]
            if any(lookup(profile.setting(name)) is not None for name in markers):
                return kind
    return None


def _lookup(
    profile: VendorProfile, layers: list[tuple[str, Lookup]], settings: tuple[Setting, ...] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in profile.settings if settings is None else settings:
        for label, lookup in layers:
            value = lookup(setting)
            if value is not None:
                values[setting.name] = value
                sources[setting.name] = (
                    f"the {setting.name} argument"
                    if label == "argument"
                    else (setting.variable or setting.name)
                    if label == "variable"
                    else f"{label}, key {setting.name}"
                )
                break
    return values, sources


def _argument(setting: Setting, value: Any) -> Any:
    if setting.secret:
        # Registered for redaction at once, before anything can fail and print it.
        return secret_value(value)
    return _plain(value)


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    return getattr(value, "value", value) if type(value).__name__ == "Secret" else value


def _pick(values: Mapping[str, str], setting: Setting) -> str | None:
    lowered = {key.lower(): value for key, value in values.items()}
    for key in (*setting.keys, setting.variable or ""):
        value = lowered.get(key.lower())
        if value:
            return value
    return None


def _variables(profile: VendorProfile, kind: CredentialKind) -> str:
    names = [profile.setting(name).variable or name for name in kind.settings]
    return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]


def _no_credentials(profile: VendorProfile) -> ConfigurationError:
    options = "; or ".join(f"{_variables(profile, kind)} ({kind.name})" for kind in profile.credentials)
    return ConfigurationError(
        f"No {profile.name} credentials are configured.",
        hint=f"Set {options}, pass them to '{profile.connect_keyword}', or name a Vault secret with "
        "vault_secret= or CONNECTORS_VAULT_SECRET.",
    )


def _missing(profile: VendorProfile, setting: Setting, kind: CredentialKind) -> ConfigurationError:
    where = f"set {setting.variable}" if setting.variable else "pass it"
    return ConfigurationError(
        f"The {profile.name} {setting.label} is not set ({kind.name} needs it).",
        hint=f"Pass {setting.name}= to '{profile.connect_keyword}', {where}, or add the key {setting.keys[0]} to "
        "the Vault secret.",
    )
