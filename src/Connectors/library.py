"""Shared pieces of the Robot Framework libraries (``Connectors.Robaws`` and friends)."""

from __future__ import annotations

from typing import Any

from robotlibcore import DynamicCore

from Connectors import __version__
from Connectors.core.errors import ConfigurationError


class ConnectorLibrary(DynamicCore):
    """Base of the vendor libraries: one ``DynamicCore`` assembled from keyword components."""

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = __version__
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"
    connect_keyword = "Connect"

    def __init__(self, components: list[Any]) -> None:
        self._client: Any = None
        super().__init__(components)

    @property
    def client(self) -> Any:
        if self._client is None:
            self.auto_connect()
        return self._client

    @client.setter
    def client(self, value: Any) -> None:
        if self._client is not None and self._client is not value:
            self._client.close()
        self._client = value

    def auto_connect(self) -> None:
        """Connect from environment variables when a keyword is used before the connect keyword."""
        raise ConfigurationError(f"Not connected. Call '{self.connect_keyword}' first.")


class KeywordComponent:
    """A group of keywords sharing the library's client."""

    def __init__(self, library: ConnectorLibrary) -> None:
        self.library = library

    @property
    def client(self) -> Any:
        return self.library.client
