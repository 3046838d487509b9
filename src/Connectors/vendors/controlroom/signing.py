"""Pre-signed storage links (artifacts, files, assets) as credentials."""

from __future__ import annotations

from urllib.parse import urlparse

from Connectors.core.redact import redactor


def signed(url: str) -> str:
    """A pre-signed URL is a bearer credential until it expires: keep its signature out of every log."""
    parts = urlparse(url)
    redactor.register(parts.query or parts.path.rsplit("/", 1)[-1])
    return url
