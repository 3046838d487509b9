"""CobotClient against the sandbox: every call, the refusals, throttling without 429s, the stored
OAuth token (long-lived, or expiring and refreshed near expiry) and the verified identity."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from Connectors import CobotClient
from Connectors.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from Connectors.core.login import LoginSettings, fetch_without_browser, run_login
from Connectors.core.oidc import DISCOVERY_PATH, OpenIDProvider, verify_id_token
from Connectors.core.tokens import FileTokenStore
from connectors_sandbox.server import SandboxProcess

pytestmark = pytest.mark.timeout(240)
SCALE = 30  # sandbox and client both 30x faster: memberships 180/min, user 1800/min


@pytest.fixture
def fast(sandbox: SandboxProcess) -> SandboxProcess:
    sandbox.configure(rate_scale=SCALE)
    return sandbox


@pytest.fixture(autouse=True)
def api_1(sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about API 1's answers, which ``api=1`` keeps unchanged (API 2: test_cobot_spec.py)."""
    monkeypatch.setenv("COBOT_API", "1")


@pytest.fixture
def cobot(fast: SandboxProcess) -> Iterator[CobotClient]:
    with CobotClient(rate_scale=SCALE) as client:
        yield client


def first_of_month(shift: int) -> date:
    today = datetime.now(timezone.utc).date()
    index = today.year * 12 + today.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def test_user_and_spaces(cobot: CobotClient) -> None:
    user = cobot.get_user()
    assert user["email"] == "alice.admin@example.com"
    spaces = cobot.list_spaces(details=True)
    assert [(s["subdomain"], s["admin"]) for s in spaces] == [("demo-coworking", True), ("harbour-hub", True)]
    assert spaces[0]["membership_id"] and spaces[1]["membership_id"] is None
    assert spaces[0]["details"]["currency"] == "EUR"


def test_memberships_and_invoices(cobot: CobotClient) -> None:
    members = cobot.list_memberships()
    assert len(members) == 6 and {"id", "name", "email", "address", "plan"} <= set(members[0])
    carla = next(m for m in members if m["name"] == "Carla Jansen")
    assert cobot.get_membership(carla["id"])["address"]["company"] == "Jansen Design"
    start, end = first_of_month(-1), first_of_month(0) - timedelta(days=1)
    invoices = cobot.list_invoices(start, end)
    assert len(invoices) == 6 and {i["invoice_date"] for i in invoices} == {start.isoformat()}
    carla_invoice = next(i for i in invoices if i["membership_id"] == carla["id"])
    assert carla_invoice["total_amount"] == "1167.65" and len(carla_invoice["items"]) == 2
    assert [i["id"] for i in cobot.list_invoices(ids=[carla_invoice["id"]])] == [carla_invoice["id"]]
    assert cobot.list_memberships(space="harbour-hub")[0]["name"] == "Gert Wouters"
    with pytest.raises(NotFound, match="Space not found"):
        cobot.list_memberships(space="no-such-space")
    with pytest.raises(ValidationError, match="from: is invalid"):
        cobot.list_invoices("yesterday-ish", end)


def test_booking_lifecycle_and_validation(cobot: CobotClient) -> None:
    resources = cobot.list_resources()
    room = resources[0]
    assert cobot.list_resources(ids=[room["id"]]) == [room]
    start = datetime(2031, 2, 3, 9, tzinfo=timezone.utc)
    booking = cobot.create_booking(room["id"], start, start + timedelta(hours=2), title="Planning")
    assert booking["resource"]["id"] == room["id"] and booking["title"] == "Planning"
    assert booking["price"] == "50.00"
    with pytest.raises(ValidationError, match="already booked") as clash:
        cobot.create_booking(room["id"], start + timedelta(hours=1), start + timedelta(hours=3))
    assert clash.value.status == 422
    with pytest.raises(ValidationError, match="from: can't be blank; to: can't be blank"):
        cobot.create_booking(room["id"], None, None)
    updated = cobot.update_booking(booking["id"], title="Board", end=start + timedelta(hours=1))
    assert updated["title"] == "Board" and updated["to"] == "2031-02-03T10:00:00+00:00"
    found = cobot.list_bookings("2031-02-03", "2031-02-03", resource_id=room["id"])
    assert [b["id"] for b in found] == [booking["id"]]
    cobot.delete_booking(booking["id"])
    with pytest.raises(NotFound):
        cobot.get_booking(booking["id"])
    assert len(cobot.list_bookings(date.today() - timedelta(days=3), date.today() + timedelta(days=7), limit=2)) == 2


def test_check_ins_and_time_passes(cobot: CobotClient) -> None:
    today = cobot.list_check_ins()
    assert today and all(c["valid_from"][:10] == datetime.now(timezone.utc).date().isoformat() for c in today)
    member_id = today[0]["membership_id"]
    history = cobot.list_check_ins(member_id, date.today() - timedelta(days=9), date.today())
    assert len(history) > len([c for c in today if c["membership_id"] == member_id])
    passes = cobot.list_time_passes()
    assert len(passes) == 3
    assert cobot.list_time_passes(passes[0]["membership_id"]) == passes


def test_webhook_subscriptions(cobot: CobotClient) -> None:
    sub = cobot.subscribe_webhook("created_invoice", "https://robots.example.com/cobot")
    assert [s["id"] for s in cobot.list_webhook_subscriptions()] == [sub["id"]]
    with pytest.raises(Conflict):
        cobot.subscribe_webhook("created_invoice", "https://robots.example.com/cobot")
    with pytest.raises(ValidationError, match="event: is not included in the list; callback_url: is invalid"):
        cobot.subscribe_webhook("nonsense", "not a url")
    cobot.delete_webhook_subscription(sub["id"])
    assert cobot.list_webhook_subscriptions() == []


def test_narrow_scopes_and_members_are_refused(fast: SandboxProcess) -> None:
    limited = CobotClient(access_token=os.environ["COBOT_LIMITED_ACCESS_TOKEN"], rate_scale=SCALE)
    with pytest.raises(PermissionDenied, match="read_invoices") as denied:
        limited.list_invoices("2020-01-01", "2030-01-01")
    assert "connectors login cobot --scope" in str(denied.value)
    member = CobotClient(access_token=os.environ["COBOT_MEMBER_ACCESS_TOKEN"], rate_scale=SCALE)
    with pytest.raises(PermissionDenied, match="only admins"):
        member.list_memberships()
    own = member.get_user()["memberships"][0]["id"]
    assert member.get_membership(own)["name"] == "Bob Member"


def test_memberships_are_paced_below_the_limit(fast: SandboxProcess, cobot: CobotClient) -> None:
    started = time.monotonic()
    for _ in range(10):
        cobot.list_memberships()
    elapsed = time.monotonic() - started
    # 180/min = 3/s, evenly spaced: nine gaps of about a third of a second, and no 429.
    assert elapsed >= 9 / 3 * 0.95
    assert fast.stats()["cobot"]["rate_limited"] == 0
    assert cobot.rate_limit_status()["retries"] == 0


def _login(sandbox: SandboxProcess, store: FileTokenStore, base: str, scopes: list[str]) -> None:
    provider = OpenIDProvider.for_url(base + DISCOVERY_PATH)
    run_login(
        LoginSettings(
            authorize_url=base + "/oauth/authorize",
            token_url=base + "/oauth/access_token",
            client_id=os.environ["COBOT_CLIENT_ID"],
            client_secret=os.environ["COBOT_CLIENT_SECRET"],
            store_key="cobot:" + os.environ["COBOT_CLIENT_ID"],
            scopes=scopes,
            verify_id_token=lambda token, nonce: verify_id_token(
                token, provider=provider, audience=os.environ["COBOT_CLIENT_ID"], nonce=nonce
            ),
        ),
        store,
        open_url=fetch_without_browser,
        out=lambda _text: None,
    )


def test_stored_login_token_and_identity(fast: SandboxProcess, tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")
    _login(fast, store, os.environ["COBOT_URL"], ["openid", "read_user", "read_memberships"])
    client = CobotClient(client_id=os.environ["COBOT_CLIENT_ID"], token_store=store.path, rate_scale=SCALE)
    assert client.get_user()["email"] == "alice.admin@example.com"
    identity = client.get_identity()
    assert identity["email"] == "alice.admin@example.com" and identity["iss"] == os.environ["COBOT_URL"]
    # The token is long-lived: nothing to refresh.
    assert "expires_at" not in store.get("cobot:" + os.environ["COBOT_CLIENT_ID"])  # type: ignore[operator]

    space_url = client.space_url()
    _login(fast, store, space_url, ["openid"])
    assert client.get_identity(space=client.default_space)["name"] == "Alice Admin"


def test_expiring_tokens_are_refreshed_near_expiry(fast: SandboxProcess, tmp_path: Path) -> None:
    fast.admin("POST", "/_sandbox/cobot/token-policy", {"access_ttl": 3600, "refresh_tokens": True})
    store = FileTokenStore(tmp_path / "tokens.json")
    key = "cobot:" + os.environ["COBOT_CLIENT_ID"]
    _login(fast, store, os.environ["COBOT_URL"], ["read_user"])
    token = store.get(key)
    assert token and token["refresh_token"] and token["expires_at"] > time.time() + 3000
    client = CobotClient(client_id=os.environ["COBOT_CLIENT_ID"], token_store=store.path, rate_scale=SCALE)
    client.get_user()
    assert fast.admin("GET", "/_sandbox/config")["vendors"]["cobot"]["oauth"]["refresh_count"] == 0
    store.put(key, {**token, "expires_at": time.time() + 5})  # almost expired
    fresh_client = CobotClient(client_id=os.environ["COBOT_CLIENT_ID"], token_store=store.path, rate_scale=SCALE)
    assert fresh_client.get_user()["email"] == "alice.admin@example.com"
    assert fast.admin("GET", "/_sandbox/config")["vendors"]["cobot"]["oauth"]["refresh_count"] == 1
    refreshed = store.get(key)
    assert refreshed and refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"]  # rotated
