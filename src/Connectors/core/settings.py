"""Where each connection setting comes from: one order for every vendor.

For every setting the first source that has it wins:

1. the argument (constructor, connect keyword or library import);
2. the Vault secret named by the ``vault_secret`` argument;
3. the setting's environment variable (``ROBAWS_USERNAME`` …);
4. the Vault secret named by ``CONNECTORS_VAULT_SECRET`` - read only while a required setting is
   still missing, because it may belong to another vendor.

A vendor with several kinds of credentials (HTTP Basic or an OAuth client, say) takes the kind that
appears in the earliest source; within one source, the kind listed first in its profile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import PurePath
from typing import Any, TypedDict

from Connectors.core.config import env, secret_value
from Connectors.core.errors import ConfigurationError
from Connectors.core.profile import AuthScheme, CredentialKind, Setting, VendorProfile
from Connectors.core.vault import get_secret

Lookup = Callable[[Setting], Any]


class CommonSettings(TypedDict, total=False):
    """The settings every client takes (``profile.common_settings``); each client adds the vendor's own.

    A client's ``__init__`` takes them as ``**common: Unpack[CommonSettings]``, so they are declared once.
    """

    vault_secret: str | None
    rate_limit: str | None
    burst: int | str | None
    rate_scale: float | str | None
    timeout: float | str | None
    throttle_store: str | None
    workers: int | str | None


@dataclass
class ResolvedSettings:
    """The settings of one connection, the credential kind chosen, and where each value came from."""

    profile: VendorProfile
    kind: CredentialKind
    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)

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
        return self.sources.get(name, "the default")

    def public(self) -> dict[str, str]:
        """The values that are not secret, as text (for hint templates and messages)."""
        return {
            setting.name: str(self.values[setting.name])
            for setting in self.profile.settings
            if not setting.secret and self.values.get(setting.name) is not None
        }


def resolve(
    profile: VendorProfile,
    arguments: Mapping[str, Any],
    *,
    scheme: AuthScheme | None = None,
    complete: bool = True,
) -> ResolvedSettings:
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
    vault_name = _plain(arguments.get("vault_secret"))
    layers: list[tuple[str, Lookup]] = [("argument", lambda s: _argument(s, arguments.get(s.name)))]
    if vault_name:
        named = get_secret(str(vault_name))
        layers.append((f"Vault secret {vault_name!r}", lambda s: _pick(named, s)))
    layers.append(("variable", lambda s: env(s.variable) if s.variable else None))
    shared_name = None if vault_name else env("CONNECTORS_VAULT_SECRET")
    shared: dict[str, str] | None = None

    def shared_layer() -> tuple[str, Lookup]:
        nonlocal shared
        if shared is None:
            shared = get_secret(str(shared_name))
        values = shared
        return f"Vault secret {shared_name!r} (CONNECTORS_VAULT_SECRET)", lambda s: _pick(values, s)

    forced = [kind for kind in profile.credentials if kind.scheme is scheme]
    kind = forced[0] if forced else _choose_kind(profile, layers)
    if kind is None and shared_name:
        layers.append(shared_layer())
        kind = _choose_kind(profile, layers)
    if kind is None:
        raise _no_credentials(profile)
    values, sources = _lookup(profile, layers)
    if shared_name and shared is None and any(values.get(name) is None for name in kind.settings):
        layers.append(shared_layer())
        values, sources = _lookup(profile, layers)
    for setting in profile.settings:
        if values.get(setting.name) is None and setting.default is not None:
            values[setting.name] = setting.default
        if setting.secret:
            values[setting.name] = secret_value(values.get(setting.name))
    resolved = ResolvedSettings(profile, kind, values, sources)
    for name in kind.settings if complete else ():
        resolved.require(name)
    return resolved


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


def _lookup(profile: VendorProfile, layers: list[tuple[str, Lookup]]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in profile.settings:
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
