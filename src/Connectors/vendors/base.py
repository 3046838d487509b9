"""What every vendor client shares: its profile resolved into one ``Connection``, an auth, a throttle, a transport."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import requests

from Connectors.core.auth import Auth
from Connectors.core.connection import build_auth, build_transport
from Connectors.core.profile import VendorProfile
from Connectors.core.retry import RetryPolicy
from Connectors.core.settings import Connection, resolve
from Connectors.core.throttle import Throttle
from Connectors.core.transport import Transport

C = TypeVar("C", bound="BaseClient")


def named(given: Mapping[str, Any], **positional: Any) -> dict[str, Any]:
    """A constructor's settings by name: its ``**settings`` and those it also takes by position."""
    merged = dict(given)
    for name, value in positional.items():
        if value is not None:
            if merged.get(name) is not None:
                raise TypeError(f"got multiple values for argument {name!r}")
            merged[name] = value
    return merged


class BaseClient:
    """Holds a ``Transport`` built from the vendor's profile; vendor clients add typed methods on top.

    It takes a resolved ``Connection`` of its profile (``core.settings.resolve``), or the settings by name,
    each missing one looked up in the documented order. ``self.settings``
    is the connection: every setting parsed, with its source.
    """

    profile: ClassVar[VendorProfile]

    def __init__(
        self,
        *,
        connection: Connection | None = None,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        **settings: Any,
    ) -> None:
        if connection is None:
            connection = resolve(self.profile, settings)
        elif connection.profile is not self.profile:
            raise TypeError(
                f"{type(self).__name__} takes a {self.profile.name} connection, not a {connection.profile.name} one."
            )
        elif any(value is not None for value in settings.values()):
            raise TypeError(f"{type(self).__name__} takes a connection or settings, not both.")
        self.settings: Connection = connection
        self.auth: Auth = build_auth(connection)
        self.url = connection.site_url
        self.base_url = connection.base_url
        self.transport: Transport = build_transport(
            connection, self.auth, session=session, retry=retry, trusted_origins=self.trusted_origins()
        )
        throttle = self.transport.config.throttle
        assert throttle is not None
        self.throttle: Throttle = throttle

    @property
    def connection(self) -> Connection:
        return self.settings

    @property
    def vendor(self) -> str:
        return self.profile.name

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
        return self.settings.url_setting

    def close(self) -> None:
        self.transport.close()

    def __enter__(self: C) -> C:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, {self.auth.describe()})"

    def rate_limit_status(self) -> dict[str, Any]:
        status = self.throttle.status.as_dict()
        status.update(requests=self.transport.stats["requests"], retries=self.transport.stats["retries"])
        return status
