"""The sandbox as a whole, over HTTP: admin endpoints that take JSON only, send no CORS headers, check
their input and can require a token; vendor endpoints that refuse what they could not serve back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors_sandbox.server import SandboxProcess

ROOT = Path(__file__).resolve().parents[2]
ADMIN_POSTS = [
    "/_sandbox/reset",
    "/_sandbox/config",
    "/_sandbox/robaws/daily-quota",
    "/_sandbox/robaws/expire-tokens",
    "/_sandbox/cobot/limits",
    "/_sandbox/cobot/token-policy",
    "/_sandbox/cobot/expire-tokens",
    "/_sandbox/cobot/spaces/demo-coworking/invoices",
    "/_sandbox/robostack/rate-limit",
    "/_sandbox/robostack/apps/5f1c9a2e-7b3d-4c8e-9a61-0d2f4b8e6c17/tokens",
]


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """A sandbox of this module alone: the fuzzing below changes its settings at random."""
    with SandboxProcess(demo=True, log_file=tmp_path_factory.mktemp("own") / "sandbox.log") as process:
        yield process


# -- admin endpoints -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ADMIN_POSTS)
@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/plain", b'{"demo": true}'),
        ("application/x-www-form-urlencoded", b"demo=true"),
        ("multipart/form-data; boundary=x", b"--x--\r\n"),
        (None, b""),
    ],
)
def test_admin_posts_take_json_only(
    own_sandbox: SandboxProcess, path: str, content_type: str | None, data: bytes
) -> None:
    """What a web page can POST cross-site without a preflight (a form, text/plain, no body) is refused."""
    headers = {"Content-Type": content_type} if content_type else {}
    before = own_sandbox.stats()
    answer = requests.post(own_sandbox.url + path, data=data, headers=headers, timeout=10)
    assert answer.status_code == 415
    assert "JSON only" in answer.json()["message"]
    assert own_sandbox.stats()["faults_injected"] == before["faults_injected"]


def test_admin_endpoints_send_no_cors_headers(own_sandbox: SandboxProcess) -> None:
    origin = {"Origin": "https://attacker.example"}
    preflight = requests.options(
        own_sandbox.url + "/_sandbox/reset",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
        timeout=10,
    )
    reset = requests.post(own_sandbox.url + "/_sandbox/reset", json={}, headers=origin, timeout=10)
    config = requests.get(own_sandbox.url + "/_sandbox/config", headers=origin, timeout=10)
    assert preflight.status_code >= 400 and reset.status_code == 200 and config.status_code == 200
    for answer in (preflight, reset, config):
        assert not [name for name in answer.headers if name.lower().startswith("access-control-")]


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/_sandbox/reset", [], "JSON object"),
        ("/_sandbox/reset", {"demo": "yes"}, "demo: must be true or false"),
        ("/_sandbox/config", {"rate_scale": "fast"}, "rate_scale: must be a number"),
        ("/_sandbox/config", {"rate_scale": 0}, "rate_scale: must be a number greater than 0"),
        ("/_sandbox/config", {"faults": "5xx=lots"}, "faults: 5xx=lots is not valid"),
        ("/_sandbox/config", {"faults": "meteor=1"}, "faults: unknown fault 'meteor'"),
        ("/_sandbox/config", {"faults": "5xx=0.7,reset=0.7"}, "more than 1"),
        ("/_sandbox/config", {"seed": 1.5}, "seed: must be a whole number"),
        ("/_sandbox/config", {"colour": "blue"}, "Unknown setting 'colour'"),
        ("/_sandbox/robaws/daily-quota", {"limit": -1}, "limit: must be a whole number of at least 0"),
        ("/_sandbox/robaws/daily-quota", {"limit": 5, "mode": "shadow"}, "mode: must be one of live, replica"),
        ("/_sandbox/robaws/daily-quota", {}, '{"limit": <whole number>}'),
        ("/_sandbox/cobot/limits", {"scale": None}, "scale: must be a number"),
        ("/_sandbox/cobot/token-policy", {"access_ttl": "soon"}, "access_ttl: must be a number"),
        ("/_sandbox/cobot/spaces/demo-coworking/invoices", {"amount": "ten"}, "amount: must be a number"),
        ("/_sandbox/robostack/rate-limit", {"burst": 0}, "burst: must be a whole number of at least 1"),
    ],
)
def test_bad_admin_input_is_a_400_with_the_reason(
    own_sandbox: SandboxProcess, path: str, body: Any, reason: str
) -> None:
    answer = requests.post(own_sandbox.url + path, json=body, timeout=10)
    assert answer.status_code == 400, answer.text
    assert reason in answer.json()["message"]


def test_malformed_admin_json_is_a_400(own_sandbox: SandboxProcess) -> None:
    for raw in (b"{", b'{"demo": NaN}', b'{"\\ud800": 1}', b"\xff\xfe"):
        answer = requests.post(
            own_sandbox.url + "/_sandbox/config", data=raw, headers={"Content-Type": "application/json"}, timeout=10
        )
        assert answer.status_code == 400, raw


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
KEYS = st.sampled_from(
    [
        *("demo", "rate_scale", "faults", "seed", "time_scale", "run_seconds", "reset", "limit", "mode", "scale"),
        *("access_ttl", "refresh_tokens", "membership_id", "amount", "description", "per_second", "burst"),
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(ADMIN_POSTS), body=JSON | st.dictionaries(KEYS, JSON, max_size=3))
def test_admin_input_never_gives_a_server_error(own_sandbox: SandboxProcess, path: str, body: Any) -> None:
    answer = requests.post(own_sandbox.url + path, json=body, timeout=10)
    assert answer.status_code < 500, (path, body, answer.text)
    assert answer.headers["content-type"] == "application/json"
    # Whatever was set, the sandbox still answers its own status.
    assert requests.get(own_sandbox.url + "/_sandbox/stats", timeout=10).status_code == 200


def test_the_admin_token_guards_every_admin_endpoint(tmp_path: Path) -> None:
    token = "sandbox-admin-token-5e8a1c"
    log = tmp_path / "sandbox.log"
    with SandboxProcess(demo=True, admin_token=token, log_file=log) as sandbox:
        for method, path in (("GET", "/_sandbox/stats"), ("GET", "/_sandbox/config"), ("POST", "/_sandbox/reset")):
            refused = requests.request(method, sandbox.url + path, json={}, timeout=10)
            wrong = requests.request(
                method, sandbox.url + path, json={}, headers={"Authorization": "Bearer guess"}, timeout=10
            )
            assert refused.status_code == wrong.status_code == 401
            assert "admin token" in refused.json()["message"]
        # SandboxProcess sends it; the vendors' APIs do not need it.
        assert sandbox.stats()["robaws"]["requests"] == 0
        env = sandbox.environment()
        assert requests.get(
            sandbox.vendor_url("robaws") + "/api/v2/clients",
            auth=(env["ROBAWS_USERNAME"], env["ROBAWS_PASSWORD"]),
            timeout=10,
        ).ok
        assert token not in " ".join(sandbox.args)  # passed in the environment, not on the command line
    assert token not in log.read_text()


# -- vendor endpoints refuse what they cannot serve back ----------------------------------------------------
@pytest.fixture
def fast(sandbox: SandboxProcess) -> SandboxProcess:
    """Rate limits far above what these tests send."""
    sandbox.configure(rate_scale=50, reset=True)
    return sandbox


def _robostack(sandbox: SandboxProcess) -> tuple[str, dict[str, str]]:
    env = sandbox.environment()
    base = f"{sandbox.vendor_url('robostack')}/external/api/{env['ROBOSTACK_APP_UUID']}/orders/"
    return base, {"x-api-key": env["ROBOSTACK_API_KEY"], "x-api-secret": env["ROBOSTACK_API_SECRET"]}


def _writes(sandbox: SandboxProcess, raw: bytes) -> list[tuple[str, requests.Response, requests.Response]]:
    """POST ``raw`` to a create endpoint of each vendor, then list what it stores."""
    env = sandbox.environment()
    headers = {"Content-Type": "application/json"}
    robaws = sandbox.vendor_url("robaws") + "/api/v2/clients"
    auth = (env["ROBAWS_USERNAME"], env["ROBAWS_PASSWORD"])
    cobot = f"{(env['COBOT_URL'] + '/spaces/{subdomain}').format(subdomain=env['COBOT_SPACE'])}/api/subscriptions"
    bearer = {"Authorization": f"Bearer {env['COBOT_ACCESS_TOKEN']}"}
    robostack, keys = _robostack(sandbox)
    return [
        (
            "robaws",
            requests.post(robaws, data=raw, headers=headers, auth=auth, timeout=10),
            requests.get(robaws, params={"size": 100}, auth=auth, timeout=10),
        ),
        (
            "cobot",
            requests.post(cobot, data=raw, headers={**headers, **bearer}, timeout=10),
            requests.get(cobot, headers=bearer, timeout=10),
        ),
        (
            "robostack",
            requests.put(robostack, data=raw, headers={**headers, **keys}, timeout=10),
            requests.post(robostack, json={}, headers=keys, timeout=10),
        ),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "\\ud800", "event": "created_booking", "callback_url": "http://127.0.0.1:9/x"}',
        b'{"\\udfff": "x", "name": "ok"}',
        b'{"name": ["fine", {"deep": "\\ud83d"}]}',
        b'{"name": "x", "amount": NaN}',
        b'{"name": "x", "amount": -Infinity}',
        b'{"name": "\xff\xfe"}',
        b"[" * 100_000,
    ],
)
def test_invalid_unicode_and_numbers_are_refused_and_nothing_is_stored(fast: SandboxProcess, raw: bytes) -> None:
    for vendor, write, listing in _writes(fast, raw):
        assert write.status_code == 400, (vendor, write.text)
        assert write.headers["content-type"] == "application/json"
        assert listing.status_code == 200, (vendor, listing.text)


NASTY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NASTY_TEXT, key=NASTY_TEXT)
def test_whatever_text_a_vendor_stores_it_serves_back(fast: SandboxProcess, name: str, key: str) -> None:
    """JSON with any code points (lone surrogates included, written as escapes): stored and served back,
    or refused with a 400; never a server error, never a collection that no longer lists."""
    raw = json.dumps(
        {"name": name or "x", key or "k": name, "event": "created_booking", "callback_url": "http://127.0.0.1:9/x"}
    ).encode()
    for vendor, write, listing in _writes(fast, raw):
        assert write.status_code < 500, (vendor, write.text)
        assert listing.status_code == 200, (vendor, listing.text)


# -- the demo credentials are fixed: devdata works as it is -----------------------------------------------
def test_devdata_holds_the_sandbox_demo_credentials(sandbox: SandboxProcess) -> None:
    env = json.loads((ROOT / "devdata" / "env.json").read_text())
    vault = json.loads((ROOT / "devdata" / "vault.json").read_text())
    # devdata points at the default port; this sandbox runs on another one.
    demo = {name: value.replace(sandbox.url, "http://127.0.0.1:8700") for name, value in sandbox.environment().items()}
    compared = [name for name in env if name.split("_", 1)[0] in ("ROBAWS", "COBOT", "ROBOSTACK")]
    assert {"ROBAWS_URL", "COBOT_URL", "COBOT_ACCESS_TOKEN", "ROBOSTACK_URL"} <= set(compared)
    for name in compared:
        assert env[name] == demo[name], name
    assert vault["robaws"] == {"username": demo["ROBAWS_USERNAME"], "password": demo["ROBAWS_PASSWORD"]}
    assert vault["robostack"] == {
        "app_uuid": demo["ROBOSTACK_APP_UUID"],
        "api_key": demo["ROBOSTACK_API_KEY"],
        "api_secret": demo["ROBOSTACK_API_SECRET"],
    }
