"""The Cobot sandbox speaks real OAuth2 / OpenID Connect and Cobot's v1 protocol: proved with
third-party clients (requests-oauthlib's OAuth2Session, PyJWT's PyJWKClient) and plain requests."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from requests_oauthlib import OAuth2Session

from connectors_sandbox.server import SandboxProcess

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def cobot(sandbox: SandboxProcess) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith("COBOT_")}
    env["SPACE_URL"] = (env["COBOT_URL"] + "/spaces/{subdomain}").format(subdomain=env["COBOT_SPACE"])
    return env


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def authorize(session: OAuth2Session, authorize_url: str) -> str:
    """Play the browser: the sandbox consents automatically and redirects with the code."""
    url, _state = session.authorization_url(authorize_url, nonce="n-0S6_WzA2Mj")
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    return str(answer.headers["Location"])


def test_oauth2session_completes_the_code_flow_with_pkce(cobot: dict[str, str], monkeypatch: Any) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on loopback
    base = cobot["COBOT_URL"]
    session = OAuth2Session(
        cobot["COBOT_CLIENT_ID"],
        redirect_uri="http://127.0.0.1:1/callback",
        scope=["openid", "read_user"],
        pkce="S256",
    )
    location = authorize(session, base + "/oauth/authorize")
    token = session.fetch_token(
        base + "/oauth/access_token",
        authorization_response=location,
        client_secret=cobot["COBOT_CLIENT_SECRET"],
        include_client_id=True,
    )
    assert token["token_type"] == "bearer" and "expires_in" not in token and "refresh_token" not in token
    assert token["scope"] == ["openid", "read_user"]
    user = session.get(base + "/api/user", timeout=10).json()
    assert user["email"] == "alice.admin@example.com" and user["admin_of"]
    # The scope was enforced: this token may not read invoices.
    denied = session.get(cobot["SPACE_URL"] + "/api/invoices?from=2020-01-01&to=2030-01-01", timeout=10)
    assert denied.status_code == 403 and "read_invoices" in denied.json()["error"]

    # PyJWT verifies the id token with the provider's JWKS, found through discovery.
    discovery = requests.get(base + "/.well-known/openid-configuration", timeout=10).json()
    assert discovery["issuer"] == base and discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    keys = jwt.PyJWKClient(discovery["jwks_uri"])
    signing_key = keys.get_signing_key_from_jwt(token["id_token"])
    claims = jwt.decode(
        token["id_token"],
        signing_key.key,
        algorithms=["RS256"],
        audience=cobot["COBOT_CLIENT_ID"],
        issuer=discovery["issuer"],
    )
    assert claims["sub"] == user["id"] and claims["email"] == user["email"] and claims["nonce"] == "n-0S6_WzA2Mj"
    assert "name" not in claims  # only the space provider adds the membership's details


def test_a_wrong_pkce_verifier_is_rejected(cobot: dict[str, str]) -> None:
    base = cobot["COBOT_URL"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(b"the-right-verifier" * 3).digest()).rstrip(b"=").decode()
    redirect = "http://127.0.0.1:1/cb"
    answer = requests.get(
        base + "/oauth/authorize",
        allow_redirects=False,
        timeout=10,
        params={
            "response_type": "code",
            "client_id": cobot["COBOT_CLIENT_ID"],
            "redirect_uri": redirect,
            "state": "s1",
            "scope": "read_user",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "client_id": cobot["COBOT_CLIENT_ID"],
        "client_secret": cobot["COBOT_CLIENT_SECRET"],
    }
    refused = requests.post(
        base + "/oauth/access_token", data={**form, "code_verifier": "a-wrong-verifier" * 3}, timeout=10
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    plain = requests.get(
        base + "/oauth/authorize",
        allow_redirects=False,
        timeout=10,
        params={
            "response_type": "code",
            "client_id": cobot["COBOT_CLIENT_ID"],
            "redirect_uri": redirect,
            "code_challenge": "x" * 43,
            "code_challenge_method": "plain",
        },
    )
    assert "error=invalid_request" in plain.headers["Location"]  # Cobot supports S256 only


def test_the_space_provider_adds_the_membership(cobot: dict[str, str], monkeypatch: Any) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    space = cobot["SPACE_URL"]
    discovery = requests.get(space + "/.well-known/openid-configuration", timeout=10).json()
    assert discovery["issuer"] == space and discovery["authorization_endpoint"] == space + "/oauth/authorize"
    session = OAuth2Session(
        cobot["COBOT_CLIENT_ID"], redirect_uri="http://127.0.0.1:1/callback", scope=["openid"], pkce="S256"
    )
    location = authorize(session, discovery["authorization_endpoint"])
    token = session.fetch_token(
        discovery["token_endpoint"],
        authorization_response=location,
        client_secret=cobot["COBOT_CLIENT_SECRET"],
        include_client_id=True,
    )
    key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token["id_token"])
    claims = jwt.decode(
        token["id_token"], key.key, algorithms=["RS256"], audience=cobot["COBOT_CLIENT_ID"], issuer=space
    )
    assert claims["name"] == "Alice Admin" and claims["phone_number"] and claims["picture"].endswith(".png")
    # The user-level keys do not verify a space's token.
    with pytest.raises(jwt.PyJWKClientError):
        jwt.PyJWKClient(cobot["COBOT_URL"] + "/jwks.json").get_signing_key_from_jwt(token["id_token"])


def test_authentication_scopes_and_revocation(cobot: dict[str, str]) -> None:
    space = cobot["SPACE_URL"]
    assert requests.get(space + "/api/resources", timeout=10).status_code == 401
    limited = bearer(cobot["COBOT_LIMITED_ACCESS_TOKEN"])
    assert requests.get(space + "/api/resources", headers=limited, timeout=10).status_code == 403
    assert (
        requests.get(space + "/api/bookings?from=2020-01-01&to=2030-01-01", headers=limited, timeout=10).status_code
        == 200
    )
    member = bearer(cobot["COBOT_MEMBER_ACCESS_TOKEN"])
    assert requests.get(space + "/api/memberships", headers=member, timeout=10).status_code == 403  # not an admin
    token_url = cobot["COBOT_URL"] + "/api/access_tokens/" + cobot["COBOT_LIMITED_ACCESS_TOKEN"]
    assert requests.get(token_url, timeout=10).status_code == 401  # the documentation: authentication required
    introspection = requests.get(token_url, headers=limited, timeout=10).json()
    assert introspection == {"scope": ["read_user", "read_bookings"]}
    # Another user's token is not found (Bob does not learn about Alice's tokens).
    assert requests.get(token_url, headers=member, timeout=10).status_code == 404
    deleted = requests.delete(token_url, headers=limited, timeout=10)
    assert deleted.status_code == 204
    assert requests.get(cobot["COBOT_URL"] + "/api/user", headers=limited, timeout=10).status_code == 401


def test_rate_limits_per_user_and_for_memberships(cobot: dict[str, str], sandbox: SandboxProcess) -> None:
    headers = bearer(cobot["COBOT_ACCESS_TOKEN"])
    # 6 per minute in windows aligned to the minute: a burst of 13 crosses at most one boundary, and two windows
    # admit at most 12, so a sandbox that still limits refuses one of them (a boundary never excuses a miss).
    statuses: list[requests.Response] = []
    while len(statuses) < 13 and (not statuses or statuses[-1].status_code != 429):
        statuses.append(requests.get(cobot["SPACE_URL"] + "/api/memberships", headers=headers, timeout=10))
    *admitted, refused = statuses
    assert refused.status_code == 429, "13 calls to /api/memberships within seconds, none refused (limit 6/min)"
    assert {r.status_code for r in admitted} == {200} and 6 <= len(admitted) <= 12
    assert 1 <= int(refused.headers["Retry-After"]) <= 60 and "Rate limit" in refused.json()["error"]
    # The per-endpoint limit does not block other calls of the user.
    assert requests.get(cobot["SPACE_URL"] + "/api/resources", headers=headers, timeout=10).status_code == 200
    assert sandbox.stats()["cobot"]["rate_limited"] == 1
    sandbox.configure(rate_scale=0.05)  # 3 per minute per user
    # 7 calls: even when a window boundary falls inside, two windows admit at most 6.
    codes = [requests.get(cobot["COBOT_URL"] + "/api/user", headers=headers, timeout=10).status_code for _ in range(7)]
    assert 429 in codes


class Receiver:
    """A webhook callback that records each delivery and answers it with ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cobot-hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, seconds: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + seconds
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.bodies


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()


def test_webhook_subscriptions_and_deliveries(cobot: dict[str, str], receiver: Receiver) -> None:
    space, headers = cobot["SPACE_URL"], bearer(cobot["COBOT_ACCESS_TOKEN"])
    created = requests.post(
        space + "/api/subscriptions",
        headers=headers,
        timeout=10,
        json={"event": "created_booking", "callback_url": receiver.url},
    )
    assert created.status_code == 201
    assert created.json()["active"] is True and created.json()["url"].endswith(created.json()["id"])
    duplicate = requests.post(
        space + "/api/subscriptions",
        headers=headers,
        timeout=10,
        data={"event": "created_booking", "callback_url": receiver.url},
    )  # form-encoded
    assert duplicate.status_code == 409
    invalid = requests.post(
        space + "/api/subscriptions",
        headers=headers,
        timeout=10,
        json={"event": "exploded", "callback_url": "ftp://nowhere"},
    )
    assert invalid.status_code == 422
    assert invalid.json() == {"errors": {"event": "is not included in the list", "callback_url": "is invalid"}}
    resource = requests.get(space + "/api/resources", headers=headers, timeout=10).json()[0]
    booking = requests.post(
        f"{space}/api/resources/{resource['id']}/bookings",
        headers=headers,
        timeout=10,
        json={"from": "2031-01-06T10:00:00Z", "to": "2031-01-06T11:00:00Z", "title": "Hook"},
    )
    assert booking.status_code == 201
    assert receiver.wait(1) == [{"url": booking.json()["url"]}]
    listed = requests.get(space + "/api/subscriptions", headers=headers, timeout=10).json()
    assert [s["event"] for s in listed] == ["created_booking"]


def _book(cobot: dict[str, str], start: str) -> None:
    space, headers = cobot["SPACE_URL"], bearer(cobot["COBOT_ACCESS_TOKEN"])
    resource = requests.get(space + "/api/resources", headers=headers, timeout=10).json()[0]
    end = start.replace("T10:", "T11:")
    booked = requests.post(
        f"{space}/api/resources/{resource['id']}/bookings",
        headers=headers,
        timeout=10,
        json={"from": start, "to": end, "title": "Hook"},
    )
    assert booked.status_code == 201


def _subscribe_and_book(cobot: dict[str, str], url: str, start: str) -> dict[str, Any]:
    subscription = requests.post(
        cobot["SPACE_URL"] + "/api/subscriptions",
        headers=bearer(cobot["COBOT_ACCESS_TOKEN"]),
        timeout=10,
        json={"event": "created_booking", "callback_url": url},
    )
    assert subscription.status_code == 201
    _book(cobot, start)
    return dict(subscription.json())


def _subscription(cobot: dict[str, str], subscription_id: str) -> dict[str, Any]:
    answer = requests.get(
        f"{cobot['SPACE_URL']}/api/subscriptions/{subscription_id}",
        headers=bearer(cobot["COBOT_ACCESS_TOKEN"]),
        timeout=10,
    )
    return dict(answer.json())


def _wait_inactive(cobot: dict[str, str], subscription_id: str, seconds: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        found = _subscription(cobot, subscription_id)
        if not found["active"] or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.mark.parametrize("status", [410])
def test_a_410_deactivates_the_subscription_at_once(
    cobot: dict[str, str], sandbox: SandboxProcess, status: int
) -> None:
    receiver = Receiver(status)
    try:
        subscription = _subscribe_and_book(cobot, receiver.url, "2031-02-03T10:00:00Z")
        assert _wait_inactive(cobot, subscription["id"])["active"] is False
        assert len(receiver.bodies) == 1  # no retry after a 410
        deliveries = sandbox.admin("GET", "/_sandbox/webhook-deliveries")
        assert [(d["attempts"], d["status"], d["outcome"]) for d in deliveries] == [(1, 410, "gone")]
        # An inactive subscription gets no more events.
        _book(cobot, "2031-02-04T10:00:00Z")
        time.sleep(0.5)
        assert len(receiver.bodies) == 1
    finally:
        receiver.server.shutdown()


@pytest.mark.parametrize("status", [500, 302], ids=["failing", "redirect-not-followed"])
def test_a_subscription_is_deactivated_when_the_retries_run_out(
    cobot: dict[str, str], sandbox: SandboxProcess, status: int
) -> None:
    # Cobot retries up to 10 times over up to 20 hours; sandbox time runs 200,000 times faster here.
    sandbox.configure(time_scale=200_000)
    receiver = Receiver(status)
    try:
        subscription = _subscribe_and_book(cobot, receiver.url, "2031-02-05T10:00:00Z")
        assert _wait_inactive(cobot, subscription["id"])["active"] is False
        assert len(receiver.bodies) == 11  # the first attempt and 10 retries
        deliveries = sandbox.admin("GET", "/_sandbox/webhook-deliveries")
        assert [(d["attempts"], d["status"], d["outcome"]) for d in deliveries] == [(11, status, "failed")]
    finally:
        receiver.server.shutdown()


# -- check-ins (work sessions) ---------------------------------------------------------------------------
def _bob_membership(cobot: dict[str, str]) -> str:
    user = requests.get(
        cobot["COBOT_URL"] + "/api/user", headers=bearer(cobot["COBOT_MEMBER_ACCESS_TOKEN"]), timeout=10
    ).json()
    return str(next(m["id"] for m in user["memberships"] if m["space_subdomain"] == cobot["COBOT_SPACE"]))


def test_work_sessions_check_in_and_check_out(cobot: dict[str, str]) -> None:
    space = cobot["SPACE_URL"]
    admin, member = bearer(cobot["COBOT_ACCESS_TOKEN"]), bearer(cobot["COBOT_MEMBER_ACCESS_TOKEN"])
    limited = bearer(cobot["COBOT_LIMITED_ACCESS_TOKEN"])
    window = {"from": "2000-01-01", "to": "2999-01-01"}
    everyone = requests.get(space + "/api/work_sessions", params=window, headers=admin, timeout=10).json()
    mine = requests.get(space + "/api/work_sessions", params=window, headers=member, timeout=10).json()
    bob = _bob_membership(cobot)
    assert {c["membership"]["id"] for c in mine} == {bob}
    assert len({c["membership"]["id"] for c in everyone}) > 1 and len(everyone) > len(mine)
    assert set(mine[0]) >= {"id", "membership", "valid_from", "valid_until"}
    missing = requests.get(space + "/api/work_sessions", params={"from": "2020-01-01"}, headers=admin, timeout=10)
    assert missing.status_code == 422 and missing.json() == {"errors": {"to": "can't be blank"}}

    today_before = requests.get(space + "/api/check_ins", headers=member, timeout=10)
    assert today_before.status_code == 200  # members may read today's check-ins too
    checked_in = requests.post(f"{space}/api/memberships/{bob}/work_sessions", headers=member, timeout=10)
    assert checked_in.status_code == 201
    record = checked_in.json()
    assert record["membership"]["id"] == bob
    today = requests.get(space + "/api/check_ins", headers=member, timeout=10).json()
    assert record["id"] in {c["id"] for c in today}
    assert (
        requests.delete(f"{space}/api/memberships/{bob}/check_ins/current", headers=member, timeout=10).status_code
        == 204
    )
    again = requests.delete(f"{space}/api/memberships/{bob}/check_ins/current", headers=member, timeout=10)
    assert again.status_code == 404 and again.json()["error"]

    alice = next(c["membership"]["id"] for c in everyone if c["membership"]["id"] != bob)
    assert (
        requests.post(f"{space}/api/memberships/{alice}/work_sessions", headers=member, timeout=10).status_code == 403
    )
    assert requests.post(f"{space}/api/memberships/{bob}/work_sessions", headers=limited, timeout=10).status_code == 403


# -- spaces and space-owned tokens -----------------------------------------------------------------------
def test_create_and_update_a_space(cobot: dict[str, str], sandbox: SandboxProcess) -> None:
    base, admin = cobot["COBOT_URL"], bearer(cobot["COBOT_ACCESS_TOKEN"])
    body = {"name": "Loft 9", "owner_name": "Alice", "subdomain": "loft-9", "time_zone_name": "Europe/Berlin"}
    created = requests.post(base + "/api/spaces", json=body, headers=admin, timeout=10)
    assert created.status_code == 201, created.text
    space = created.json()
    documented = {"name", "id", "url", "email", "created_at", "description", "owner_id", "country", "locale"}
    documented |= {
        "in_eu",
        "subdomain",
        "tax_rate",
        "price_display",
        "time_zone_name",
        "time_zone_offset",
        "hour_format",
    }
    assert documented <= set(space)
    assert (space["name"], space["subdomain"], space["time_zone_name"]) == ("Loft 9", "loft-9", "Europe/Berlin")
    user = requests.get(base + "/api/user", headers=admin, timeout=10).json()
    assert space["owner_id"] == user["id"] and "loft-9" in {a["space_subdomain"] for a in user["admin_of"]}
    assert requests.get(base + "/api/spaces/loft-9", timeout=10).json() == space  # public details
    new_space = (cobot["COBOT_URL"] + "/spaces/{subdomain}").format(subdomain="loft-9")
    assert requests.get(new_space + "/api/resources", headers=admin, timeout=10).json() == []

    taken = requests.post(base + "/api/spaces", data=body, headers=admin, timeout=10)  # form-encoded
    assert taken.status_code == 422 and taken.json() == {"errors": {"subdomain": "has already been taken"}}
    blank = requests.post(base + "/api/spaces", json={"subdomain": "Not A Subdomain"}, headers=admin, timeout=10)
    assert blank.json() == {"errors": {"name": "can't be blank", "subdomain": "is invalid"}}
    member = bearer(cobot["COBOT_MEMBER_ACCESS_TOKEN"])  # no 'write' scope
    assert (
        requests.post(base + "/api/spaces", json={**body, "subdomain": "x1"}, headers=member, timeout=10).status_code
        == 403
    )

    updated = requests.put(base + "/api/spaces/loft-9", json={"name": "Loft Nine"}, headers=admin, timeout=10)
    assert updated.status_code == 200 and updated.json()["name"] == "Loft Nine"
    emptied = requests.put(base + "/api/spaces/loft-9", json={"name": ""}, headers=admin, timeout=10)
    assert emptied.status_code == 422 and emptied.json() == {"errors": {"name": "can't be blank"}}
    assert requests.put(base + "/api/spaces/nowhere", json={}, headers=admin, timeout=10).status_code == 404
    sandbox.reset()
    assert requests.get(base + "/api/spaces/loft-9", timeout=10).status_code == 404


def test_a_space_owned_access_token(cobot: dict[str, str]) -> None:
    base, admin = cobot["COBOT_URL"], bearer(cobot["COBOT_ACCESS_TOKEN"])
    demo = requests.get(base + "/api/spaces/" + cobot["COBOT_SPACE"], timeout=10).json()
    url = f"{base}/api/access_tokens/{cobot['COBOT_ACCESS_TOKEN']}/space"
    created = requests.post(url, json={"space_id": demo["id"]}, headers=admin, timeout=10)
    assert created.status_code == 201, created.text
    answer = created.json()
    assert set(answer) == {"scope", "token", "client_id"} and answer["token"] != cobot["COBOT_ACCESS_TOKEN"]
    introspected = requests.get(f"{base}/api/access_tokens/{cobot['COBOT_ACCESS_TOKEN']}", headers=admin, timeout=10)
    assert answer["scope"] == introspected.json()["scope"]
    owned = bearer(answer["token"])
    assert requests.get(cobot["SPACE_URL"] + "/api/memberships", headers=owned, timeout=10).status_code == 200
    other = (cobot["COBOT_URL"] + "/spaces/{subdomain}").format(subdomain="harbour-hub")
    assert requests.get(other + "/api/resources", headers=owned, timeout=10).status_code == 403
    assert requests.post(url, json={"space_id": "nope"}, headers=admin, timeout=10).status_code == 404
    assert requests.post(url, json={}, headers=admin, timeout=10).json() == {"errors": {"space_id": "can't be blank"}}
    member = bearer(cobot["COBOT_MEMBER_ACCESS_TOKEN"])
    assert requests.post(url, json={"space_id": demo["id"]}, headers=member, timeout=10).status_code == 404


# -- a space on its own host, as Cobot serves it -----------------------------------------------------------
def test_a_space_answers_on_its_own_host(cobot: dict[str, str], sandbox: SandboxProcess) -> None:
    """``https://<subdomain>.cobot.me/api/...``: the first label of the host names the space."""
    headers = bearer(cobot["COBOT_ACCESS_TOKEN"])
    port = sandbox.url.rsplit(":", 1)[1]
    by_path = requests.get(cobot["SPACE_URL"] + "/api/resources", headers=headers, timeout=10)
    for host in (f"{cobot['COBOT_SPACE']}.localhost:{port}", f"{cobot['COBOT_SPACE']}.sandbox.example"):
        by_host = requests.get(cobot["COBOT_URL"] + "/api/resources", headers={**headers, "Host": host}, timeout=10)
        assert by_host.status_code == 200 and by_host.json() == by_path.json()
        discovery = requests.get(cobot["COBOT_URL"] + "/.well-known/openid-configuration", headers={"Host": host})
        assert discovery.json()["issuer"] == cobot["SPACE_URL"]
    # www (or any other first label) is the user level, like www.cobot.me.
    for host in (f"www.localhost:{port}", f"127.0.0.1:{port}", f"nowhere.localhost:{port}"):
        user = requests.get(cobot["COBOT_URL"] + "/api/user", headers={**headers, "Host": host}, timeout=10)
        assert user.status_code == 200
        space_call = requests.get(cobot["COBOT_URL"] + "/api/resources", headers={**headers, "Host": host}, timeout=10)
        assert space_call.status_code == 404 and space_call.json() == {"error": "Unknown path /cobot/api/resources"}
