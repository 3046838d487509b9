"""The vendors, listed once: one sub-package per vendor with ``profile.py`` (the vendor as data),
``client.py`` (the plain Python client) and ``keywords.py`` (Robot Framework keyword components).

``VENDORS`` is the one list the package (``from Connectors import RobawsClient``), the CLI, the docs tool and
the tests read. The sandbox keeps its own copy (``connectors_sandbox.options.VENDORS``: it imports nothing from
the library, so that it stays an independent implementation of the protocols); a unit test holds the two equal.

The folder is ``vendors/`` rather than ``Connectors/robaws/`` so that no package differs from the
Robot Framework library module (``Connectors/Robaws.py``) only by letter case, which breaks imports
on Windows and macOS file systems.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from Connectors.core.profile import VendorProfile


class Vendor(NamedTuple):
    """Where a vendor's parts live; each is imported on first use, so listing vendors imports none.

    ``key`` (``robaws``) names the sub-package, the vendor in the CLI and the sandbox, and the profile's
    ``key``; ``name`` (``Robaws``) the library (``Library    Connectors.Robaws``) and ``RobawsClient``.
    """

    key: str
    name: str

    @property
    def library_module(self) -> str:
        return f"Connectors.{self.name}"

    @property
    def client_name(self) -> str:
        return f"{self.name}Client"

    @property
    def client_module(self) -> str:
        return f"Connectors.vendors.{self.key}.client"

    def profile(self) -> VendorProfile:
        profile: VendorProfile = getattr(
            importlib.import_module(f"Connectors.vendors.{self.key}.profile"), self.key.upper()
        )
        return profile

    def client(self) -> type[Any]:
        return getattr(importlib.import_module(self.client_module), self.client_name)  # type: ignore[no-any-return]

    def library(self) -> type[Any]:
        return getattr(importlib.import_module(self.library_module), self.name)  # type: ignore[no-any-return]


VENDORS: tuple[Vendor, ...] = (
    Vendor("robaws", "Robaws"),
    Vendor("cobot", "Cobot"),
    Vendor("controlroom", "ControlRoom"),
    Vendor("robostack", "Robostack"),
)


def vendor(key: str) -> Vendor:
    for candidate in VENDORS:
        if candidate.key == key:
            return candidate
    raise KeyError(key)
