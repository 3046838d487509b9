"""Workspace resources of the current API: process webhooks, assets, workers; verifying webhook deliveries."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from Connectors.core import arguments
from Connectors.core.config import require
from Connectors.core.errors import ConnectorError, NotFound, ValidationError
from Connectors.core.redact import redactor, signed
from Connectors.core.settings import lookup
from Connectors.core.webhooks import SignatureError, verify_body
from Connectors.vendors.controlroom.enums import WebhookEvent, value_of
from Connectors.vendors.controlroom.profile import CONTROLROOM

if TYPE_CHECKING:
    from Connectors.vendors.controlroom.current import CurrentApi

INLINE_LIMIT = 5 * 1024 * 1024  # the spec: inline upload ``data`` is for payloads under 5 MB


class ResourcesMixin:
    """Mixed into ``ControlRoomClient``; every call here needs the current API."""

    vendor: str
    _current: Any
    resolve_process: Any
    _fetch_signed: Any
    transport: Any

    def _api(self, what: str) -> CurrentApi:
        api: CurrentApi = self._current(what)
        return api

    def get_workspace(self) -> dict[str, Any]:
        return self._api("Reading the workspace").get_workspace()

    # -- webhooks ------------------------------------------------------------------------------------
    def create_webhook(
        self, process: str, endpoint: str, events: Sequence[WebhookEvent | str] = tuple(WebhookEvent)
    ) -> dict[str, Any]:
        """A process webhook: ``{id, process, enabled_events, endpoint, secret}`` (the secret signs deliveries)."""
        listed: Any = tuple(WebhookEvent) if events is None else events if arguments.is_list(events) else [events]
        chosen = [str(value_of(e)) for e in listed]
        known = {e.value for e in WebhookEvent}
        unknown = [e for e in chosen if e not in known]
        if unknown or not chosen:
            raise ValidationError(
                f"Unknown webhook event {unknown[0]!r}." if unknown else "No webhook events given.",
                vendor=self.vendor,
                hint=f"Use {', '.join(sorted(known))}.",
            )
        endpoint = arguments.text(endpoint, "endpoint")
        hook = self._api("Creating a webhook").create_webhook(self.resolve_process(process), endpoint, chosen)
        redactor.register(str(hook.get("secret") or ""))
        return hook

    def list_webhooks(self) -> list[dict[str, Any]]:
        return self._api("Listing webhooks").list_webhooks()

    def get_webhook(self, webhook_id: str) -> dict[str, Any]:
        hook = self._api("Reading a webhook").get_webhook(webhook_id)
        redactor.register(str(hook.get("secret") or ""))
        return hook

    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        return self._api("Deleting a webhook").delete_webhook(webhook_id)

    @staticmethod
    def verify_webhook(body: str | bytes, signature: str | None, secret: Any = None) -> dict[str, Any]:
        """Check ``x-rc-signature`` (hex HMAC-SHA256 of the raw body) and return the parsed event."""
        key = arguments.credential(secret, "secret") or lookup(CONTROLROOM, "webhook_secret")[0]
        key = require(key, "The Control Room webhook secret", "CONTROLROOM_WEBHOOK_SECRET")
        if not isinstance(body, (str, bytes)):
            raise ValidationError(f"body must be the raw request body (text or bytes), got {type(body).__name__}.")
        if signature is not None and not (isinstance(signature, str) and signature.isascii()):
            raise SignatureError("The x-rc-signature header is malformed (not ASCII text).")
        verify_body(key, body, signature)
        try:
            event = json.loads(body)
        except ValueError:
            raise ValidationError("The webhook body is not JSON.", vendor="Control Room", hint="Reject the delivery.")
        return event if isinstance(event, dict) else {"payload": event}

    # -- assets --------------------------------------------------------------------------------------
    def list_assets(self) -> list[dict[str, Any]]:
        return self._api("Listing assets").list_assets()

    def get_asset(self, name: str, as_bytes: bool = False) -> Any:
        """An asset's content: parsed JSON for ``application/json``, text for ``text/*``, else bytes."""
        name = arguments.text(name, "name", max_length=500)
        as_bytes = arguments.flag(as_bytes, "as_bytes")
        asset = self._api("Reading an asset").get_asset(f"name:{name}")
        payload = asset.get("payload") or {}
        if payload.get("type") != "url":
            raise NotFound(
                f"Asset {name!r} has no content yet.", vendor=self.vendor, hint="Set it with Set Control Room Asset."
            )
        content: bytes = self._fetch_signed(str(payload["url"]))
        kind = str(payload.get("content_type") or "")
        if as_bytes:
            return content
        if kind.startswith("application/json"):
            return json.loads(content)
        return content.decode() if kind.startswith("text/") else content

    def set_asset(self, name: str, value: Any, content_type: str | None = None) -> dict[str, Any]:
        """Create the asset if needed and upload ``value`` (dict/list → JSON, str → text, bytes as they are)."""
        api = self._api("Setting an asset")
        name = arguments.text(name, "name", max_length=500)
        kind_given = arguments.optional_text(content_type, "content_type", max_length=255)
        if kind_given and not kind_given.isascii():
            # It is sent as a header: a media type such as application/json.
            raise ValidationError("content_type must be a media type in ASCII, such as application/json.")
        data, kind = _content(value, kind_given)
        try:
            asset = api.get_asset(f"name:{name}")
        except NotFound:
            asset = api.create_asset(name)
        asset_id = str(asset["id"])
        text = _as_text(data, kind)
        if text is not None and len(data) < INLINE_LIMIT:
            upload = api.create_asset_upload(asset_id, kind, text)
        else:
            upload = api.create_asset_upload(asset_id, kind, None)
            url = signed(str(upload["upload_url"]))
            self.transport.request("PUT", url, data=data, headers={"Content-Type": kind}, authenticate=False)
            upload = self._await_upload(api, asset_id, str(upload["id"]))
        return {"id": asset_id, "name": name, "content_type": kind, "status": upload["status"]}

    def _await_upload(self, api: CurrentApi, asset_id: str, upload_id: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline, pause = time.monotonic() + timeout, 0.2
        while True:
            upload = api.get_asset_upload(asset_id, upload_id)
            if upload["status"] == "completed":
                return upload
            if upload["status"] == "failed":
                raise ConnectorError(
                    f"Control Room could not store the asset upload: {upload.get('reason', 'no reason given')}.",
                    vendor=self.vendor,
                    hint="Check the content and try again.",
                )
            if time.monotonic() > deadline:
                raise ConnectorError(
                    f"The asset upload is still {upload['status']} after {timeout:g} s.",
                    vendor=self.vendor,
                    hint="Read the asset later with Get Control Room Asset.",
                )
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def delete_asset(self, name: str) -> dict[str, Any]:
        name = arguments.text(name, "name", max_length=500)
        return self._api("Deleting an asset").delete_asset(f"name:{name}")

    # -- workers -------------------------------------------------------------------------------------
    def list_workers(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return self._api("Listing workers").list_workers(limit)


def _content(value: Any, content_type: str | None) -> tuple[bytes, str]:
    if isinstance(value, bytes):
        return value, content_type or "application/octet-stream"
    if isinstance(value, str):
        return arguments.json_value(value, "value").encode(), content_type or "text/plain"
    return json.dumps(arguments.json_value(value, "value")).encode(), content_type or "application/json"


def _as_text(data: bytes, kind: str) -> str | None:
    if not (kind.startswith("text/") or kind.startswith("application/json")):
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None
