"""What every vendor client shares: its profile resolved into settings, an auth, a throttle and a transport."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import requests

from Connectors.core.auth import Auth
from Connectors.core.connection import build_auth, build_transport, describe_url, site_url
from Connectors.core.errors import ConnectorError
from Connectors.core.profile import VendorProfile
from Connectors.core.retry import RetryPolicy
from Connectors.core.settings import ResolvedSettings, resolve
from Connectors.core.throttle import Throttle
from Connectors.core.transport import Transport

# Constructor parameters that are not connection settings.
_NOT_SETTINGS = frozenset({"self", "session", "retry", "common"})


def settings_of(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A client constructor's connection settings from its ``locals()``: its own and ``**common``."""
    # Only plain names: a tracer may add locals of its own (robocorp.log adds "@ctx").
    own = {
        name: value
        for name, value in arguments.items()
        if name.isidentifier() and name not in _NOT_SETTINGS and not name.startswith("__")
    }
    return {**own, **dict(arguments.get("common") or {})}


class BaseClient:
    """Holds a ``Transport`` built from the vendor's profile; vendor clients add typed methods on top.

    ``arguments`` are the constructor's connection settings, by the profile's setting names; each
    missing one is looked up in the documented order (``Connectors.core.settings``).
    """

    profile: ClassVar[VendorProfile]

    def __init__(
        self,
        arguments: Mapping[str, Any],
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings: ResolvedSettings = resolve(self.profile, arguments)
        self.auth: Auth = build_auth(self.settings)
        self.url = site_url(self.settings)
        self.base_url = self.url + self.profile.api_path
        self.transport: Transport = build_transport(
            self.settings,
            self.auth,
            session=session,
            retry=retry,
            hint_hook=self.hint_for,
            trusted_origins=self.trusted_origins(),
        )
        throttle = self.transport.config.throttle
        assert throttle is not None
        self.throttle: Throttle = throttle

    @property
    def vendor(self) -> str:
        return self.profile.name

    def hint_for(self, error: ConnectorError) -> str | None:
        """A better hint for an HTTP error than the profile's (override per vendor)."""
        return None

    def trusted_origins(self) -> Sequence[str]:
        """Origins besides the configured URL's that may receive the credentials (override per vendor)."""
        return ()

    def connection_line(self) -> str:
        """The first log line of a connection: where to, as whom, with which limit."""
        return (
            f"Connected to {self.vendor} at {self.url}"
            + (" (the production default)" if self.settings.source("url") == "the default" else "")
            + f" with {self.auth.describe()}; client-side limit {self.throttle.status.rate}."
        )

    def describe_url(self) -> str:
        return describe_url(self.settings)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, {self.auth.describe()})"

    def rate_limit_status(self) -> dict[str, Any]:
        status = self.throttle.status.as_dict()
        status.update(requests=self.transport.stats["requests"], retries=self.transport.stats["retries"])
        return status
