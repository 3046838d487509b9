"""A vendor described once, as data.

A ``VendorProfile`` lists a vendor's connection settings and where each comes from, the kinds of
credentials it accepts, its default URL and API path, its limits and rate-limit headers, its
idempotency header, its OAuth endpoints, the shape of its error bodies and the hints that tell a user
what to do. The client, the connect keyword, the library's import arguments, ``connectors login`` and
the generated docs all read it, so the four connectors cannot drift apart. Nothing here names a vendor:
each vendor package defines its own profile object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from Connectors.core import config
from Connectors.core.config import RateSpec
from Connectors.core.error_format import ErrorFormat
from Connectors.core.throttle import EndpointLimit, RateLimitHeaders


@dataclass(frozen=True)
class Setting:
    """One connection setting: a keyword/constructor argument, its variable and its Vault keys."""

    name: str
    variable: str | None = None
    # Keys accepted in a Vault secret (any case); the setting's own name when empty.
    vault_keys: tuple[str, ...] = ()
    secret: bool = False
    default: str | None = None
    doc: str = ""
    # The type a keyword or library import converts the value to (a secret: text or a ``Secret``).
    kind: type = str
    # Turns the value given (text, or what a Python caller passed) into what the connection holds; raises
    # ``config.Invalid`` saying what it should be. Default: by ``kind`` (a secret: its registered text).
    parse: Callable[[Any], Any] | None = None
    # The setting in messages ("number of throttle workers"); default: the name in words.
    what: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        return self.vault_keys or (self.name,)

    @property
    def label(self) -> str:
        return self.what or self.name.replace("_", " ")

    def read(self, value: Any) -> Any:
        """The value parsed (``value`` is not ``None``); ``config.Invalid`` when it does not parse."""
        if self.secret:
            return config.secret_value(value)
        if self.parse is not None:
            return self.parse(value)
        return _PARSERS.get(self.kind, config.text)(value)


_PARSERS: dict[type, Callable[[Any], Any]] = {int: config.positive_int, float: config.positive_number}


class AuthScheme(str, Enum):
    """How a credential kind turns its settings into request headers."""

    #: settings: (username, password)
    BASIC = "basic"
    #: settings: (token,)
    BEARER = "bearer"
    #: settings: (client_id, client_secret); tokens from the token store (``connectors login``)
    OAUTH = "oauth"
    #: settings: any; ``headers`` maps header names to templates such as ``"RC-WSKEY {api_key}"``
    HEADERS = "headers"


@dataclass(frozen=True)
class CredentialKind:
    """One way to authenticate, e.g. HTTP Basic or an OAuth client."""

    name: str
    scheme: AuthScheme
    settings: tuple[str, ...]
    optional: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    # Settings that name the credential in throttle keys and messages; secret ones appear as fingerprints.
    identity: tuple[str, ...] = ()
    # Status → hint, overriding the profile's; ``{name}`` fields are filled from the resolved settings
    # that are not secret (and ``{store_path}`` / ``{store_key}`` for OAuth).
    hints: Mapping[int, str] = field(default_factory=dict)

    @property
    def all_settings(self) -> tuple[str, ...]:
        return self.settings + self.optional


@dataclass(frozen=True)
class OAuthEndpoints:
    """Where the authorization-code flow happens, relative to the vendor's URL."""

    authorize_path: str
    token_path: str
    scopes: tuple[str, ...]
    openid: bool = False


class LimitScope(str, Enum):
    #: one budget per tenant (URL) and credential
    TENANT = "tenant"
    #: one budget per credential, whichever host it calls (e.g. a user-wide limit)
    CREDENTIAL = "credential"


@dataclass(frozen=True)
class VendorProfile:
    name: str
    default_url: str
    # The vendor's own site for documentation links (default: ``default_url``).
    site: str = ""
    settings: tuple[Setting, ...] = ()
    credentials: tuple[CredentialKind, ...] = ()
    summary: str = ""
    api_path: str = ""
    rate: RateSpec | None = None
    # False when the vendor publishes no limit and ``rate`` is only our polite default.
    rate_published: bool = True
    # Overrides the description made from ``rate`` and ``daily_quota`` (for limits it cannot express).
    rate_note: str = ""
    daily_quota: int | None = None
    limit_scope: LimitScope = LimitScope.TENANT
    endpoint_limits: tuple[EndpointLimit, ...] = ()
    rate_headers: RateLimitHeaders = field(default_factory=RateLimitHeaders)
    idempotency_header: str | None = None
    max_idempotency_key: int = 128
    oauth: OAuthEndpoints | None = None
    error_format: ErrorFormat = field(default_factory=ErrorFormat)
    hints: Mapping[int, str] = field(default_factory=dict)
    default_headers: Mapping[str, str] = field(default_factory=dict)
    # The connect keyword's own documentation: one line, the vendor's details, and Robot Framework
    # example rows (one per line) below the generic text about settings and secrets.
    connect_details: str = ""
    connect_examples: str = ""
    # What `Get <Vendor> Rate Limit Status` returns beyond the common keys (", ``key`` …").
    rate_status_keys: str = ""

    def __post_init__(self) -> None:
        # ``settings`` is given as the vendor's own; every connector's common ones follow, made from the
        # profile's prefix, rate and daily quota, so none of those is written twice. A common setting the
        # vendor declares itself is kept as declared (and ``dataclasses.replace`` adds nothing twice).
        own = {setting.name for setting in self.settings}
        common = [c for c in common_settings(self.prefix, self.rate, daily_quota=self.daily_quota) if c.name not in own]
        object.__setattr__(self, "settings", (*self.settings, *common))
        object.__setattr__(self, "site", self.site or self.default_url)

    @property
    def connect_summary(self) -> str:
        """The first line of the connect keyword's documentation: how it authenticates."""
        return f"Connect to {self.name} with {' or '.join(kind.name for kind in self.credentials)}."

    @property
    def rate_doc(self) -> str:
        """The limit in words, for documentation: ``15 requests/second with a burst of 20, and …``."""
        if self.rate_note or self.rate is None:
            return self.rate_note or "no published limit, and none by default"
        units = {1.0: "second", 60.0: "minute", 3600.0: "hour"}
        per = units.get(self.rate.period, f"{self.rate.period:g} seconds")
        text = f"{self.rate.limit:g} requests/{per}" + (
            f" with a burst of {self.rate.burst}" if self.rate.burst else ""
        )
        if self.daily_quota:
            text += f", and {self.daily_quota:,} requests a day per tenant and mode"
        return text if self.rate_published else f"no published limit; {text} by default"

    @property
    def key(self) -> str:
        """The vendor in commands, token-store keys, tags and sandbox prefixes: ``controlroom``."""
        return self.name.lower().replace(" ", "")

    @property
    def prefix(self) -> str:
        """The prefix of the vendor's environment variables: ``CONTROLROOM``."""
        return self.key.upper()

    @property
    def connect_keyword(self) -> str:
        return f"Connect To {self.name}"

    def setting(self, name: str) -> Setting:
        for setting in self.settings:
            if setting.name == name:
                return setting
        raise KeyError(name)

    @property
    def setting_names(self) -> tuple[str, ...]:
        return tuple(setting.name for setting in self.settings)

    def token_store_key(self, client_id: str) -> str:
        """Where ``connectors login <vendor>`` keeps the tokens of an OAuth client."""
        return f"{self.key}:{client_id}"


def oauth_client_settings(key: str) -> tuple[Setting, ...]:
    """The settings of an OAuth2 client whose tokens ``connectors login <key>`` stored."""
    prefix = key.upper()
    return (
        Setting("client_id", f"{prefix}_CLIENT_ID", doc=f"OAuth2 client (tokens from ``connectors login {key}``)"),
        Setting("client_secret", f"{prefix}_CLIENT_SECRET", secret=True, doc="OAuth2 client secret"),
        Setting(
            "token_store",
            "CONNECTORS_TOKEN_STORE",
            doc="OAuth2 token store: a file (default ``~/.connectors``), ``redis://…`` or ``vault:<secret>``",
        ),
    )


def common_settings(prefix: str, rate: RateSpec | None, *, daily_quota: int | None = None) -> tuple[Setting, ...]:
    """The settings every connector has: a Vault secret, limits, timeouts and the shared throttle."""
    limit = f"default {rate}" if rate else "unlimited by default"
    settings = [
        Setting(
            "vault_secret",
            None,
            doc="name of a Vault secret holding these settings (its keys as in the Vault column)",
        ),
        Setting(
            "rate_limit",
            f"{prefix}_RATE_LIMIT",
            doc=f"client-side limit such as ``15/s`` or ``60/min`` ({limit}; ``off`` for none)",
            parse=config.rate_limit,
        ),
        Setting("burst", f"{prefix}_RATE_BURST", doc="how many requests may go at once before pacing starts", kind=int),
        Setting(
            "rate_scale",
            f"{prefix}_RATE_SCALE",
            default="1",
            doc="multiplies the vendor's limits, for a sandbox started with ``--rate-scale``",
            kind=float,
        ),
    ]
    if daily_quota:
        settings.append(
            Setting(
                "daily_quota",
                f"{prefix}_DAILY_QUOTA",
                default=str(daily_quota),
                doc=f"client-side daily request budget (default {daily_quota:,}; ``none`` switches it off)",
                parse=config.daily_quota,
            )
        )
    settings += [
        Setting("timeout", f"{prefix}_TIMEOUT", doc="seconds to wait for an answer (default 60)", kind=float),
        Setting(
            "throttle_store",
            "CONNECTORS_THROTTLE_STORE",
            default="memory",
            doc="where the limit is kept: ``memory``, ``sqlite:///path`` or ``redis://host:port/db``",
        ),
        Setting(
            "workers",
            "CONNECTORS_THROTTLE_WORKERS",
            doc="how many workers share the credential; each takes its share when no shared store answers",
            kind=int,
            what="number of throttle workers",
        ),
    ]
    return tuple(settings)
