"""Keyword components of ``Connectors.ControlRoom``: webhooks, assets and workers."""

from __future__ import annotations

from typing import Any

from robot.api.deco import keyword
from robot.api.types import Secret

from Connectors.library import KeywordComponent
from Connectors.vendors.controlroom.client import ControlRoomClient
from Connectors.vendors.controlroom.enums import WebhookEvent
from Connectors.vendors.controlroom.keywords import DEFAULT_LIST_LIMIT, bounded, collect, id_of


class ControlRoomWebhookKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "webhooks", "write"])
    def create_control_room_webhook(
        self, process: str, endpoint: str, events: list[WebhookEvent | str] | None = None
    ) -> dict[str, Any]:
        """Create a process webhook: Control Room POSTs the process's run events to ``endpoint``.

        ``events``: ``process_run.started``, ``process_run.completed``, ``process_run.unresolved``
        (default all three). Returns ``id``, ``process``, ``enabled_events``, ``endpoint`` and ``secret``
        - a ``Secret`` that signs every delivery (`Verify Control Room Webhook Signature`). Deliveries
        come at least once: de-duplicate on the event ``id``.

        Example:
        | ${hook} = | Create Control Room Webhook | Invoice Processing | https://example.com/hooks/cr |
        | ${hook} = | Create Control Room Webhook | Invoice Processing | ${url} | events=${UNRESOLVED} |
        """
        hook = self.client.create_webhook(process, endpoint, events or list(WebhookEvent))
        hook["secret"] = Secret(str(hook["secret"]))
        return hook

    @keyword(tags=["controlroom", "webhooks", "read"])
    def list_control_room_webhooks(self) -> list[dict[str, Any]]:
        """Return the workspace's webhooks: ``id``, ``process``, ``enabled_events``, ``endpoint`` (no secrets).

        Example:
        | ${hooks} = | List Control Room Webhooks |
        """
        return self.client.list_webhooks()

    @keyword(tags=["controlroom", "webhooks", "write"])
    def delete_control_room_webhook(self, webhook_id: Any) -> dict[str, Any]:
        """Delete a webhook (its id or dictionary); returns ``{id, deleted}``.

        Example:
        | Delete Control Room Webhook | ${hook} |
        """
        return self.client.delete_webhook(id_of(webhook_id, "webhook_id"))

    @keyword(tags=["controlroom", "webhooks", "read"])
    def verify_control_room_webhook_signature(
        self, body: str | bytes, signature: str | None, secret: Secret | str | None = None
    ) -> dict[str, Any]:
        """Check a Control Room webhook's ``x-rc-signature`` header and return the parsed event.

        ``body`` is the raw request body; ``secret`` the webhook's secret (default
        ``CONTROLROOM_WEBHOOK_SECRET``). Fails, in constant time, when the signature does not match.

        Example:
        | ${event} = | Verify Control Room Webhook Signature | ${body} | ${headers}[x-rc-signature] |
        | Log | ${event}[event] |
        """
        return ControlRoomClient.verify_webhook(body, signature, secret)


class ControlRoomAssetKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "assets", "read"])
    def list_control_room_assets(self) -> list[dict[str, Any]]:
        """Return the workspace's assets: ``id`` and ``name``.

        Example:
        | ${assets} = | List Control Room Assets |
        """
        return self.client.list_assets()

    @keyword(tags=["controlroom", "assets", "read"])
    def get_control_room_asset(self, name: str, as_bytes: bool = False) -> Any:
        """Return the content of the asset ``name``: a dictionary or list for JSON, text for ``text/*``.

        Other content types come as bytes, as does everything with ``as_bytes=True``.

        Example:
        | ${config} = | Get Control Room Asset | invoice-settings |
        | Log | ${config}[currency] |
        """
        return self.client.get_asset(name, as_bytes)

    @keyword(tags=["controlroom", "assets", "write"])
    def set_control_room_asset(self, name: str, value: Any, content_type: str | None = None) -> dict[str, Any]:
        """Store ``value`` as the asset ``name``, creating the asset when it does not exist.

        A dictionary or list is stored as JSON, text as ``text/plain`` and bytes as
        ``application/octet-stream`` unless ``content_type`` says otherwise. Content under 5 MB goes in
        one request; larger content through an upload link. Returns ``id``, ``name``, ``content_type``.

        Example:
        | Set Control Room Asset | invoice-settings | ${{ {"currency": "EUR"} }} |
        | Set Control Room Asset | template | ${html} | content_type=text/html |
        """
        return self.client.set_asset(name, value, content_type)

    @keyword(tags=["controlroom", "assets", "write"])
    def delete_control_room_asset(self, name: str) -> dict[str, Any]:
        """Delete the asset ``name``; returns ``{id, deleted}``.

        Example:
        | Delete Control Room Asset | invoice-settings |
        """
        return self.client.delete_asset(name)


class ControlRoomWorkerKeywords(KeywordComponent):
    @keyword(tags=["controlroom", "workers", "read"])
    def list_workers(self, limit: int = DEFAULT_LIST_LIMIT) -> list[dict[str, Any]]:
        """Return the workspace's workers: ``id``, ``name`` and ``state`` (``offline``, ``idle``, ``busy``).

        Example:
        | ${workers} = | List Workers |
        | ${idle} = | Evaluate | [w for w in $workers if w["state"] == "idle"] |
        """
        limit_ = bounded(limit)
        return collect(self.client.list_workers(limit_), limit_, "workers")
