"""Cobot deliveries at the receiver: the secret path token, 410 Gone for a dropped one, the ``url`` checked
against the Cobot hosts before anything is stored or fetched, and one work item per acknowledged delivery."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from Connectors.core.errors import ConfigurationError, NotFound, PermissionDenied, TransportError
from Connectors.webhooks.app import create_app
from Connectors.webhooks.cobot import CobotDeliveries, cobot_source, from_environment, origin_patterns
from Connectors.webhooks.dispatcher import Dispatcher
from Connectors.webhooks.receiver import Receiver
from Connectors.webhooks.service import ReceiverSettings, build_receiver
from Connectors.webhooks.sinks import WorkItemFolder
from Connectors.webhooks.sources import robaws_source
from Connectors.webhooks.store import EventStore

TOKEN = "cobot-path-token-0123456789"
OLD = "cobot-old-token-9876543210"
BOOKING = "https://my-space.cobot.me/api/bookings/b1"


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("COBOT_", "ROBAWS_", "CONTROLROOM_", "CONNECTORS_")):
            monkeypatch.delenv(name)


def deliveries(fetch: Any = None) -> CobotDeliveries:
    patterns = origin_patterns("https://www.cobot.me", "https://api.cobot.me", "https://{subdomain}.cobot.me")
    return CobotDeliveries(patterns, fetch)


def make_receiver(tmp_path: Path, fetch: Any = None) -> Receiver:
    store = EventStore(tmp_path / "events.db")
    sink = WorkItemFolder(tmp_path / "out")
    sink.prepare()
    sources = {s.name: s for s in (cobot_source(TOKEN, [OLD]), robaws_source("whsec-1"))}
    return Receiver(store, sources, Dispatcher(store, sink), transforms={"cobot": deliveries(fetch).event})


def deliver(client: TestClient, token: str, body: Any) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(f"/webhooks/cobot/{token}", content=data, headers={"Content-Type": "application/json"})


def work_items(tmp_path: Path, receiver: Receiver) -> list[dict[str, Any]]:
    receiver.dispatcher.run_once()
    receiver.dispatcher.sink.flush(force=True)
    return [json.loads(f.read_text())[0]["payload"] for f in sorted((tmp_path / "out" / "work-items").glob("*"))]


def test_each_acknowledged_delivery_is_one_work_item_naming_the_url(tmp_path: Path) -> None:
    receiver = make_receiver(tmp_path)
    client = TestClient(create_app(receiver))
    answers = [deliver(client, TOKEN, {"url": BOOKING}) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    ids = [a.json()["id"] for a in answers]
    assert len(set(ids)) == 2  # Cobot sends no event id: a repeated delivery is a second item
    items = work_items(tmp_path, receiver)
    assert [(i["source"], i["id"], i["event"], i["data"]) for i in items] == [
        ("cobot", ids[0], "cobot.delivery", {"url": BOOKING}),
        ("cobot", ids[1], "cobot.delivery", {"url": BOOKING}),
    ]


def test_the_path_token_is_the_only_way_in(tmp_path: Path) -> None:
    receiver = make_receiver(tmp_path)
    client = TestClient(create_app(receiver))
    assert deliver(client, "wrong-token-0123456789", {"url": BOOKING}).status_code == 401
    generic = client.post("/webhooks/cobot", json={"url": BOOKING}, headers={"x-connectors-cobot-path-token": TOKEN})
    assert generic.status_code == 404
    spoofed = client.post(
        "/webhooks/cobot/nope-0123456789abcdef",
        json={"url": BOOKING},
        headers={"x-connectors-cobot-path-token": TOKEN},
    )
    assert spoofed.status_code == 401
    gone = deliver(client, OLD, {"url": BOOKING})
    assert gone.status_code == 410 and gone.json() == {"error": "this subscription was dropped"}
    assert receiver.store.counts()["received"] == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"url": "https://evil.example/api/bookings/b1"}, "not on a Cobot host"),
        ({"url": "https://my-space.cobot.me.evil.example/api/bookings/b1"}, "not on a Cobot host"),
        ({"url": "https://user:pw@my-space.cobot.me/api/x"}, "not an http(s) URL"),
        ({"url": "file:///etc/passwd"}, "not an http(s) URL"),
        ({"url": "https://a.b.cobot.me/api/x"}, "not on a Cobot host"),
        ({"url": "https://my-space.cobot.me/\x00"}, 'no "url"'),
        ({"href": BOOKING}, 'no "url"'),
        ([BOOKING], 'no "url"'),
        (b"not json", "not JSON"),
    ],
)
def test_a_url_elsewhere_is_refused_in_one_line_and_never_fetched(tmp_path: Path, body: Any, reason: str) -> None:
    fetched: list[str] = []
    receiver = make_receiver(tmp_path, fetch=fetched.append)
    answer = deliver(TestClient(create_app(receiver)), TOKEN, body)
    assert answer.status_code == 400 and reason in answer.json()["error"]
    assert "evil" not in answer.text and fetched == [] and receiver.store.counts()["received"] == 0


def test_a_5_mb_body_is_refused_before_it_is_read(tmp_path: Path) -> None:
    receiver = make_receiver(tmp_path)
    answer = deliver(TestClient(create_app(receiver)), TOKEN, b'{"url": "' + b"x" * (5 * 1024 * 1024) + b'"}')
    assert answer.status_code == 413 and receiver.store.counts()["received"] == 0


def test_the_resource_is_read_and_a_gone_one_kept_as_null(tmp_path: Path) -> None:
    def fetch(url: str) -> Any:
        if url.endswith("/gone"):
            raise NotFound("not found", status=404)
        return {"id": "b1", "title": "Sync"}

    receiver = make_receiver(tmp_path, fetch)
    client = TestClient(create_app(receiver))
    assert deliver(client, TOKEN, {"url": BOOKING}).status_code == 200
    assert deliver(client, TOKEN, {"url": BOOKING[:-2] + "gone"}).status_code == 200
    items = work_items(tmp_path, receiver)
    assert [i["data"]["resource"] for i in items] == [{"id": "b1", "title": "Sync"}, None]


@pytest.mark.parametrize("error", [TransportError("down"), PermissionDenied("no", status=403)])
def test_a_cobot_that_cannot_answer_makes_the_delivery_a_503(tmp_path: Path, error: Exception) -> None:
    def fetch(url: str) -> Any:
        raise error

    receiver = make_receiver(tmp_path, fetch)
    answer = deliver(TestClient(create_app(receiver)), TOKEN, {"url": BOOKING})
    assert answer.status_code == 503 and answer.json()["error"].startswith("Cobot ")
    assert receiver.store.counts()["received"] == 0  # not acknowledged: Cobot delivers it again


def test_hosts_follow_cobot_url_and_cobot_api_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBOT_URL", "http://127.0.0.1:8700/cobot")
    monkeypatch.setenv("COBOT_API_URL", "http://127.0.0.1:8701/cobot/api2")
    checker = from_environment(1024)
    assert checker.fetch is None  # no credentials: the work item names the url only
    assert checker.url_of(b'{"url": "http://127.0.0.1:8700/cobot/spaces/x/api/bookings/1"}')
    assert checker.url_of(b'{"url": "http://127.0.0.1:8701/cobot/api2/bookings/1"}')
    with pytest.raises(Exception, match="not on a Cobot host"):
        checker.url_of(b'{"url": "http://127.0.0.1:9/cobot/api/bookings/1"}')


def test_the_token_must_be_long_and_url_safe(tmp_path: Path) -> None:
    settings = ReceiverSettings(store=str(tmp_path / "e.db"), work_items=str(tmp_path / "out"), cobot_token="short")
    with pytest.raises(ConfigurationError, match="16 to 200 letters"):
        build_receiver(settings)
    settings.cobot_token = TOKEN
    settings.cobot_dropped = ("has spaces in it, not a token",)
    with pytest.raises(ConfigurationError, match="16 to 200 letters") as refused:
        build_receiver(settings)
    assert "has spaces" not in str(refused.value)
    settings.cobot_dropped = (OLD,)
    receiver = build_receiver(settings)
    assert "cobot" in receiver.sources and "cobot" in receiver.transforms
    receiver.store.close()
