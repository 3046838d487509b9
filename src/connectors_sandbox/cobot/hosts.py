"""Cobot serves a space's API on the space's own host: ``https://<subdomain>.cobot.me/api/...``, the user
level on ``https://www.cobot.me``. The sandbox answers both ways:

- by host, as Cobot does: a request whose ``Host`` starts with a space's subdomain label
  (``demo-coworking.localhost:8700``, ``demo-coworking.sandbox.example``) reaches that space under the
  same ``/cobot`` prefix, e.g. ``http://demo-coworking.localhost:8700/cobot/api/memberships``;
- by path, for hosts that have no subdomains (``127.0.0.1``): ``/cobot/spaces/<subdomain>/api/...``.

The first is what a client derives from ``COBOT_URL`` the way Cobot's own client gem does (replace the
first label of the host with the subdomain); the second is the loopback stand-in for it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

SPACES_PATH = "/spaces"


def space_of_host(host: str, known: Callable[[str], bool]) -> str | None:
    """The space subdomain a ``Host`` header names, if its first label is a known space."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        pass
    label, dot, _rest = name.partition(".")
    return label if dot and known(label) else None


class SpaceHosts:
    """ASGI middleware inside the ``/cobot`` mount: routes a space host's requests to that space."""

    def __init__(self, app: Any, known: Callable[[str], bool]) -> None:
        self.app = app
        self.known = known

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
            subdomain = space_of_host(host, self.known)
            root = scope.get("root_path", "")
            path = scope["path"]
            if subdomain and path.startswith(root) and not path[len(root) :].startswith(SPACES_PATH + "/"):
                # In place: the outer layers read what the pipeline notes in this scope.
                prefix = f"{SPACES_PATH}/{subdomain}"
                scope["path"] = root + prefix + path[len(root) :]
                if "raw_path" in scope and scope["raw_path"] is not None:
                    raw = scope["raw_path"]
                    raw_root = root.encode()
                    if raw.startswith(raw_root):
                        scope["raw_path"] = raw_root + prefix.encode() + raw[len(raw_root) :]
        await self.app(scope, receive, send)
