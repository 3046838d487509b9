"""One order for every connector's settings, per vendor and per credential kind:

argument → Vault secret named by ``vault_secret`` → environment variable → Vault secret named by
``CONNECTORS_VAULT_SECRET`` (read only while a required setting is missing).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from robot.api.types import Secret

from Connectors import CobotClient, ControlRoomClient, RobawsClient, RobostackClient
from Connectors.core import config
from Connectors.core.auth import BasicAuth, BearerAuth, HeaderAuth, OAuth2Auth
from Connectors.core.errors import ConfigurationError
from Connectors.core.profile import AuthScheme, CredentialKind, Setting, VendorProfile
from Connectors.core.redact import redactor
from Connectors.core.settings import Connection, resolve
from Connectors.vendors import VENDORS
from Connectors.vendors.base import BaseClient

CLIENTS: list[type[BaseClient]] = [vendor.client() for vendor in VENDORS]
SOURCES = ["argument", "named vault", "variable", "shared vault"]
AUTH_CLASSES = {
    AuthScheme.BASIC: BasicAuth,
    AuthScheme.BEARER: BearerAuth,
    AuthScheme.OAUTH: OAuth2Auth,
    AuthScheme.HEADERS: HeaderAuth,
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    prefixes = ("ROBAWS_", "COBOT_", "CONTROLROOM_", "ROBOSTACK_", "CONNECTORS_", "RPA_SECRET", "RC_VAULT")
    for name in list(os.environ):
        if name.startswith(prefixes):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CONNECTORS_TOKEN_STORE", str(tmp_path / "tokens.json"))


def value(setting: str, source: str) -> str:
    tag = source.replace(" ", "-")
    return f"https://{tag}.example" if setting == "url" else f"{setting}-{tag}-value"


class Sources:
    """Puts settings into one of the four sources and builds a client from them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, profile: VendorProfile) -> None:
        self.monkeypatch = monkeypatch
        self.profile = profile
        self.vault_file = tmp_path / "vault.json"
        self.vault: dict[str, dict[str, str]] = {"named": {}, "shared": {}}
        self.arguments: dict[str, Any] = {}
        monkeypatch.setenv("RPA_SECRET_FILE", str(self.vault_file))

    def put(self, source: str, names: tuple[str, ...] | list[str]) -> None:
        for name in names:
            setting = self.profile.setting(name)
            text = value(name, source)
            if source == "argument":
                self.arguments[name] = Secret(text) if setting.secret else text
            elif source == "variable":
                assert setting.variable
                self.monkeypatch.setenv(setting.variable, text)
            else:
                self.vault["named" if source == "named vault" else "shared"][setting.keys[0]] = text
        if source == "named vault":
            self.arguments["vault_secret"] = "named"
        if source == "shared vault":
            self.monkeypatch.setenv("CONNECTORS_VAULT_SECRET", "shared")

    def client(self, client_class: type[BaseClient]) -> BaseClient:
        self.vault_file.write_text(json.dumps(self.vault))
        return client_class(**self.arguments, session=requests.Session())  # type: ignore[call-arg]


def kinds() -> list[tuple[type[BaseClient], CredentialKind]]:
    return [(cls, kind) for cls in CLIENTS for kind in cls.profile.credentials]


@pytest.mark.parametrize(
    ("client_class", "kind"), kinds(), ids=lambda x: getattr(x, "__name__", getattr(x, "name", ""))
)
@pytest.mark.parametrize("source", SOURCES)
def test_each_credential_kind_from_each_source(
    client_class: type[BaseClient], kind: CredentialKind, source: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sources = Sources(monkeypatch, tmp_path, client_class.profile)
    sources.put(source, [*kind.settings, "url"])
    client = sources.client(client_class)
    assert client.settings.kind is kind
    assert isinstance(client.auth, AUTH_CLASSES[kind.scheme])
    assert client.url == value("url", source)
    for name in kind.settings:
        assert client.settings.text(name) == value(name, source)
        if client_class.profile.setting(name).secret:
            assert redactor.redact(value(name, source)) == "***"


@pytest.mark.parametrize("client_class", CLIENTS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("winner", SOURCES)
def test_each_later_source_is_used_only_when_the_earlier_ones_lack_the_setting(
    client_class: type[BaseClient], winner: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kind = client_class.profile.credentials[0]
    sources = Sources(monkeypatch, tmp_path, client_class.profile)
    for source in SOURCES[SOURCES.index(winner) :]:
        sources.put(source, [*kind.settings, "url"])
    client = sources.client(client_class)
    assert client.settings.text(kind.settings[0]) == value(kind.settings[0], winner)
    assert client.url == value("url", winner)


def test_the_shared_vault_secret_is_not_read_when_nothing_required_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ROBOSTACK_APP_UUID", "app")
    monkeypatch.setenv("ROBOSTACK_API_KEY", "key-from-environment")
    monkeypatch.setenv("ROBOSTACK_API_SECRET", "secret-from-environment")
    monkeypatch.setenv("RPA_SECRET_FILE", str(tmp_path / "missing.json"))
    monkeypatch.setenv("CONNECTORS_VAULT_SECRET", "belongs-to-another-vendor")
    client = RobostackClient()
    assert client.url == "https://api.robostack.ai"
    assert client.settings.source("api_key") == "ROBOSTACK_API_KEY"


def test_robaws_oauth_variables_beat_a_shared_vault_secret_with_basic_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The documented order: variables come before the shared Vault secret, whatever kind each holds."""
    vault = tmp_path / "vault.json"
    vault.write_text(json.dumps({"shared": {"username": "vault-user", "password": "vault-password"}}))
    monkeypatch.setenv("RPA_SECRET_FILE", str(vault))
    monkeypatch.setenv("CONNECTORS_VAULT_SECRET", "shared")
    monkeypatch.setenv("ROBAWS_CLIENT_ID", "my-app")
    monkeypatch.setenv("ROBAWS_CLIENT_SECRET", "client-secret-value")
    client = RobawsClient()
    assert isinstance(client.auth, OAuth2Auth)
    # Without the OAuth variables the shared secret's Basic credentials are used.
    monkeypatch.delenv("ROBAWS_CLIENT_ID")
    monkeypatch.delenv("ROBAWS_CLIENT_SECRET")
    assert isinstance(RobawsClient().auth, BasicAuth)


def test_within_one_source_the_profile_order_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBOT_CLIENT_ID", "app")
    monkeypatch.setenv("COBOT_ACCESS_TOKEN", "token-from-environment")
    assert isinstance(CobotClient().auth, BearerAuth)
    # An argument is an earlier source than any variable.
    assert isinstance(CobotClient(client_id="app").auth, OAuth2Auth)


def test_missing_and_unknown_settings_are_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="No Robaws credentials") as caught:
        RobawsClient()
    assert "ROBAWS_USERNAME and ROBAWS_PASSWORD" in str(caught.value)
    monkeypatch.setenv("ROBAWS_USERNAME", "api")
    with pytest.raises(ConfigurationError, match="The Robaws password is not set") as caught:
        RobawsClient()
    assert "ROBAWS_PASSWORD" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ConfigurationError, match="workspace id is not set"):
        ControlRoomClient(api_key="k3y-value")


# -- every setting of every vendor, from each source -------------------------------------------------------
ALL_SOURCES = ["argument", "named vault", "variable", "shared vault", "default"]
# A value each parser takes (a new setting with a parser of its own needs one here).
SAMPLES: dict[Any, str] = {config.http_url: "http://127.0.0.1:9/x", config.rate_limit: "7/s", config.daily_quota: "123"}


def sample(setting: Setting) -> str:
    if setting.parse is not None:
        return SAMPLES[setting.parse]
    if setting.name == "api":
        return "legacy"  # Control Room's API generation
    return {int: "3", float: "2.5"}.get(setting.kind, f"{setting.name}-sample-value")


def setting_sources() -> list[tuple[VendorProfile, Setting, str]]:
    cases = []
    for profile in (vendor.profile() for vendor in VENDORS):
        for setting in profile.settings:
            possible = {
                "argument": True,
                "named vault": setting.name != "vault_secret",
                "variable": setting.variable is not None,
                "shared vault": setting.name != "vault_secret",
                "default": setting.default is not None,
            }
            cases += [(profile, setting, source) for source in ALL_SOURCES if possible[source]]
    return cases


@pytest.mark.parametrize(
    ("profile", "setting", "source"),
    setting_sources(),
    ids=lambda x: getattr(x, "key", None) or getattr(x, "name", None) or str(x).replace(" ", "-"),
)
def test_every_setting_of_every_vendor_from_each_source(
    profile: VendorProfile, setting: Setting, source: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The connection holds the value parsed once and names where it came from, for every source."""
    monkeypatch.delenv("CONNECTORS_TOKEN_STORE")
    kind = next((k for k in profile.credentials if setting.name in k.all_settings), profile.credentials[0])
    credentials = {name: f"{name}-credential" for name in kind.settings if name != setting.name}
    vault: dict[str, dict[str, str]] = {"named": {}, "shared": {}}
    arguments: dict[str, Any] = {}
    text = sample(setting)
    if source == "shared vault":
        # Read only while a required setting is missing: everything is there.
        vault["shared"] = {profile.setting(name).keys[0]: value for name, value in credentials.items()}
        monkeypatch.setenv("CONNECTORS_VAULT_SECRET", "shared")
    else:
        arguments.update(credentials)
    if source == "argument":
        text = "named" if setting.name == "vault_secret" else text
        arguments[setting.name] = text
    elif source == "named vault":
        arguments["vault_secret"] = "named"
    elif source == "variable":
        assert setting.variable
        monkeypatch.setenv(setting.variable, text)
    elif source == "default":
        assert setting.default is not None
        text = setting.default
    if source in ("named vault", "shared vault"):
        vault[source.split()[0]][setting.keys[0]] = text
    vault_file = tmp_path / "vault.json"
    vault_file.write_text(json.dumps(vault))
    monkeypatch.setenv("RPA_SECRET_FILE", str(vault_file))

    connection = resolve(profile, arguments)

    assert connection.values[setting.name] == setting.read(text)
    assert (
        connection.source(setting.name)
        == {
            "argument": f"the {setting.name} argument",
            "named vault": f"Vault secret 'named', key {setting.keys[0]}",
            "variable": setting.variable,
            "shared vault": f"Vault secret 'shared' (CONNECTORS_VAULT_SECRET), key {setting.keys[0]}",
            "default": "the default",
        }[source]
    )
    derived = {
        "url": lambda c: c.site_url == text.rstrip("/") and c.base_url == text + profile.api_path,
        "rate_limit": lambda c: c.rate is not None and c.rate.per_second == 7,
        "burst": lambda c: c.rate is None or c.rate.capacity == 3,
        "rate_scale": lambda c: c.rate_scale == setting.read(text),
        "daily_quota": lambda c: c.daily_quota == int(text),
        "timeout": lambda c: (c.connect_timeout, c.read_timeout) == (2.5, 2.5),
        "workers": lambda c: c.workers == 3,
        "throttle_store": lambda c: c.throttle_store == text,
        "token_store": lambda c: c.token_store == text,
    }
    assert derived.get(setting.name, lambda c: True)(connection)
    assert isinstance(connection, Connection)
    with pytest.raises(dataclasses.FrozenInstanceError):
        connection.workers = 5  # type: ignore[misc]


def test_a_client_takes_a_resolved_connection_instead_of_settings() -> None:
    connection = resolve(RobawsClient.profile, {"url": "http://127.0.0.1:9", "username": "u", "password": "p-conn"})
    client = RobawsClient(connection=connection, session=requests.Session())
    assert client.settings is connection and client.base_url == "http://127.0.0.1:9/api/v2"
    with pytest.raises(TypeError, match="a connection or settings, not both"):
        RobawsClient(connection=connection, rate_limit="5/s")
    with pytest.raises(TypeError, match="takes a Cobot connection, not a Robaws one"):
        CobotClient(connection=connection)
    with pytest.raises(TypeError, match="multiple values for argument 'url'"):
        RobawsClient("http://127.0.0.1:9", url="http://127.0.0.1:8")


def test_no_connection_setting_is_read_from_the_environment_outside_the_resolver() -> None:
    """The resolver is the one reader: a variable read elsewhere would skip the order and the parsing."""
    variables = {s.variable for vendor in VENDORS for s in vendor.profile().settings if s.variable}
    read = re.compile(r"""(?:\benv|environ\.get|getenv)\(\s*["']([A-Z0-9_]+)["']|environ\[\s*["']([A-Z0-9_]+)""")
    source = Path(__file__).resolve().parents[2] / "src" / "Connectors"
    found = {
        f"{path.relative_to(source)}: {name}"
        for path in source.rglob("*.py")
        if path.name != "settings.py" or path.parent.name != "core"
        for match in read.finditer(path.read_text(encoding="utf-8"))
        for name in match.groups()
        if name in variables
    }
    assert not found
