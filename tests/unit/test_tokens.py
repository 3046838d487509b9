"""The token store: atomic writes, and exactly one refresh when processes share a rotating token."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest

from Connectors.core.errors import AuthenticationError, ConfigurationError
from Connectors.core.tokens import (
    FileTokenStore,
    RedisTokenStore,
    RefreshRefused,
    TokenStore,
    VaultTokenStore,
    open_token_store,
)
from support.redis_server import redis_or_skip


def _refresh_in_process(store_path: str, counter_path: str, queue: multiprocessing.Queue) -> None:
    store = FileTokenStore(store_path)
    stale = store.get("v:client")

    def refresh(current: dict) -> dict:
        with open(counter_path, "a") as handle:
            handle.write("x")
        time.sleep(0.2)  # a slow token endpoint widens the race
        return {"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": 3600}

    def needs_refresh(token: dict) -> bool:
        return float(token.get("expires_at", 0)) < time.time() + 60

    fresh = store.refresh_once("v:client", stale, needs_refresh, refresh)
    queue.put(fresh["access_token"])


def test_concurrent_processes_refresh_a_rotating_token_exactly_once(tmp_path: Path) -> None:
    store_path = tmp_path / "tokens.json"
    counter = tmp_path / "refreshes"
    counter.write_text("")
    FileTokenStore(store_path).put(
        "v:client", {"access_token": "old", "refresh_token": "old-refresh", "expires_at": time.time() - 5}
    )
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_refresh_in_process, args=(str(store_path), str(counter), queue))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(10)
    assert results == ["new-access"] * 4
    assert counter.read_text() == "x"
    stored = json.loads(store_path.read_text())["v:client"]
    assert stored["refresh_token"] == "new-refresh" and stored["expires_at"] > time.time()


def test_store_file_is_private_and_never_half_written(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "t.json")
    store.put("a", {"access_token": "x" * 10})
    assert (tmp_path / "t.json").stat().st_mode & 0o077 == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tokens-")]
    store.delete("a")
    assert store.get("a") is None


def test_missing_token_says_to_log_in(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "t.json")
    store.put("other", {"access_token": "y" * 10})
    with pytest.raises(AuthenticationError, match="connectors login"):
        store.refresh_once("missing", None, lambda t: True, lambda t: t)


# -- choosing a store --------------------------------------------------------------------------------


def test_a_path_is_a_file_store_and_nothing_else_is_taken_for_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert isinstance(open_token_store(str(tmp_path / "t.json")), FileTokenStore)
    assert open_token_store(None).location.endswith(".connectors/tokens.json")
    assert isinstance(open_token_store("redis://127.0.0.1:1/0"), RedisTokenStore)
    assert isinstance(open_token_store("vault:robaws_oauth"), VaultTokenStore)
    # redis://... once became a FILE named redis:/... in the working folder.
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("sqlite:///tmp/tokens.db", "Unknown token store 'sqlite:///tmp/tokens.db'"),
        ("https://user:pw-4711@vault.example/x", "Unknown token store 'https://vault.example/x'"),
        ("vault:", "names no Vault secret"),
    ],
)
def test_an_unknown_store_fails_in_one_line(spec: str, says: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        open_token_store(spec)
    text = str(caught.value)
    assert says in text and "\n" not in text and "pw-4711" not in text


def test_a_fresh_environment_with_a_token_file_says_why_and_the_fix(tmp_path: Path) -> None:
    store = open_token_store(str(tmp_path / "tokens.json"))
    text = str(store.missing("robaws:app", "connectors login robaws"))
    assert "No OAuth2 token stored under 'robaws:app'" in text and "fresh environment" in text
    assert "connectors login robaws --token-store vault:<secret name>" in text and "\n" not in text


# -- the refresh when the store has no lock ----------------------------------------------------------


class UnlockedStore(TokenStore):
    """A store without a lock (as the Vault without a throttle store), kept in a dict."""

    spec = location = "memory"

    def __init__(self) -> None:
        self.data: dict[str, dict] = {}

    def _read(self, key: str) -> dict | None:
        return dict(self.data[key]) if key in self.data else None

    def _write(self, key: str, token: dict) -> None:
        self.data[key] = dict(token)

    def _remove(self, key: str) -> None:
        self.data.pop(key, None)


def expired(access: str, refresh: str) -> dict:
    return {"access_token": access, "refresh_token": refresh, "expires_at": time.time() - 5}


def needs_refresh(token: dict) -> bool:
    return float(token.get("expires_at", 0)) < time.time() + 60


def test_a_refresh_refused_because_another_worker_rotated_first_continues_with_its_token() -> None:
    store = UnlockedStore()
    store.put("v:c", expired("a0", "r0"))

    def lost_race(current: dict) -> dict:
        # Another worker spent r0 a moment ago; its token reaches the store while we are refused.
        store._write("v:c", {"access_token": "a1", "refresh_token": "r1", "expires_at": time.time() + 3600})
        raise RefreshRefused("Refreshing the OAuth2 token failed: invalid_grant.")

    token = store.refresh_once("v:c", expired("a0", "r0"), needs_refresh, lost_race)
    assert token["access_token"] == "a1"


def test_a_refused_refresh_nobody_replaced_fails_with_the_stores_advice(monkeypatch) -> None:
    monkeypatch.setattr("Connectors.core.tokens.ROTATION_WAIT_SECONDS", 0.3)
    store = UnlockedStore()
    store.put("v:c", expired("a0", "r0"))

    def refused(current: dict) -> dict:
        raise RefreshRefused("Refreshing the OAuth2 token failed: invalid_grant.")

    with pytest.raises(RefreshRefused, match="log in again with 'connectors login v --token-store memory'"):
        store.refresh_once("v:c", None, needs_refresh, refused, login="connectors login v")
    assert store.data["v:c"]["refresh_token"] == "r0"


def test_a_file_store_refused_refresh_explains_the_spent_copy(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "t.json")
    store.put("v:c", expired("a0", "r0"))

    def refused(current: dict) -> dict:
        raise RefreshRefused("Refreshing the OAuth2 token failed: invalid_grant.")

    with pytest.raises(RefreshRefused) as caught:
        store.refresh_once("v:c", None, needs_refresh, refused, login="connectors login v")
    text = str(caught.value)
    assert "already spent" in text and "--token-store vault:<secret name>" in text and "\n" not in text


# -- the Vault store on a local vault file -----------------------------------------------------------


@pytest.fixture
def vault_file(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "vault.json"
    path.write_text(json.dumps({"robaws_oauth": {"client_id": "app", "note": "kept"}}))
    for name in ("RC_VAULT_SECRET_MANAGER", "RPA_SECRET_MANAGER", "RC_VAULT_SECRETS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RPA_SECRET_FILE", str(path))
    return path


def test_the_vault_store_keeps_the_token_in_the_secrets_keys(vault_file: Path) -> None:
    store = open_token_store("vault:robaws_oauth")
    assert store.get("robaws:app") is None
    store.put(
        "robaws:app",
        {
            "access_token": "acc-1234567",
            "refresh_token": "ref-1234567",
            "expires_in": 3600,
            "scope": ["clients", "profile"],
            "token_type": "Bearer",
        },
    )
    secret = json.loads(vault_file.read_text())["robaws_oauth"]
    assert secret["client_id"] == "app" and secret["note"] == "kept"  # the robot's own keys stay
    assert secret["access_token"] == "acc-1234567" and secret["scope"] == "clients profile"
    assert secret["token_key"] == "robaws:app" and all(isinstance(v, str) for v in secret.values())
    token = store.get("robaws:app")
    assert token is not None and token["refresh_token"] == "ref-1234567"
    assert token["expires_at"] > time.time() + 3500
    with pytest.raises(ConfigurationError, match="holds the OAuth2 token of 'robaws:app', not of 'cobot:x'"):
        store.get("cobot:x")


def test_the_vault_store_refreshes_and_writes_back_before_use(vault_file: Path) -> None:
    store = open_token_store("vault:robaws_oauth")
    store.put("robaws:app", expired("acc-old-123", "ref-old-123"))

    def refresh(current: dict) -> dict:
        assert current["refresh_token"] == "ref-old-123"
        return {"access_token": "acc-new-123", "refresh_token": "ref-new-123", "expires_in": 3600}

    fresh = store.refresh_once("robaws:app", None, needs_refresh, refresh)
    assert fresh["access_token"] == "acc-new-123"
    assert json.loads(vault_file.read_text())["robaws_oauth"]["refresh_token"] == "ref-new-123"


def test_a_vault_write_that_fails_leaves_the_old_token_and_says_so(vault_file: Path, monkeypatch) -> None:
    from Connectors.core import vault

    store = open_token_store("vault:robaws_oauth")
    store.put("robaws:app", expired("acc-old-123", "ref-old-123"))

    def refused_write(name: str, values: dict, description: str = "") -> None:
        raise vault.VaultWriteError(
            f"Vault secret {name!r} could not be written (HTTP 403: no write access); it keeps its previous values."
        )

    monkeypatch.setattr(vault, "write_secret", refused_write)
    with pytest.raises(vault.VaultWriteError) as caught:
        store.refresh_once(
            "robaws:app", None, needs_refresh, lambda t: {"access_token": "acc-new-123", "expires_in": 60}
        )
    assert "keeps its previous values" in str(caught.value) and "\n" not in str(caught.value)
    assert "acc-new-123" not in str(caught.value)
    assert store.get("robaws:app")["access_token"] == "acc-old-123"  # type: ignore[index]


# -- Redis -------------------------------------------------------------------------------------------


def _refresh_through(spec: str, counter_path: str, queue: multiprocessing.Queue) -> None:
    store = open_token_store(spec)
    stale = store.get("v:client")

    def refresh(current: dict) -> dict:
        with open(counter_path, "a") as handle:
            handle.write("x")
        time.sleep(0.2)
        return {"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": 3600}

    queue.put(store.refresh_once("v:client", stale, needs_refresh, refresh)["access_token"])


def test_redis_workers_refresh_a_rotating_token_exactly_once(tmp_path: Path) -> None:
    with redis_or_skip() as server:
        store = open_token_store(server.url)
        store.put("v:client", expired("old", "old-refresh"))
        counter = tmp_path / "refreshes"
        counter.write_text("")
        queue: multiprocessing.Queue = multiprocessing.Queue()
        workers = [
            multiprocessing.Process(target=_refresh_through, args=(server.url, str(counter), queue)) for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        results = [queue.get(timeout=30) for _ in workers]
        for worker in workers:
            worker.join(10)
        assert results == ["new-access"] * 4 and counter.read_text() == "x"
        assert store.get("v:client")["refresh_token"] == "new-refresh"  # type: ignore[index]
        store.delete("v:client")
        assert store.get("v:client") is None


def test_an_unreachable_redis_store_fails_in_one_line() -> None:
    from Connectors.core.errors import TransportError
    from connectors_sandbox.server import free_port

    store = open_token_store(f"redis://:pw-secret-99@127.0.0.1:{free_port()}/0")
    with pytest.raises(TransportError) as caught:
        store.get("v:client")
    text = str(caught.value)
    assert "is unreachable" in text and "pw-secret-99" not in text and "\n" not in text


def test_the_vault_store_keeps_its_lock_beside_a_sqlite_throttle_store(tmp_path: Path, monkeypatch) -> None:
    for name in ("RPA_SECRET_FILE", "RC_VAULT_SECRETS_FILE"):
        monkeypatch.delenv(name, raising=False)
    store = open_token_store("vault:x", lock_store=f"sqlite:///{tmp_path}/throttle.db")
    with store._locked("v:c") as exclusive:
        assert exclusive and (tmp_path / "throttle.db.tokens.lock").exists()
    # No throttle store, no local vault file: nothing can keep other workers out.
    with open_token_store("vault:x", lock_store="memory")._locked("v:c") as exclusive:
        assert not exclusive


@pytest.mark.peers
def test_the_vault_store_without_the_vault_variables_fails_in_one_line(monkeypatch) -> None:
    pytest.importorskip("robocorp.vault", reason="robocorp-vault is not installed")
    for name in ("RPA_SECRET_FILE", "RC_VAULT_SECRETS_FILE", "RC_API_SECRET_HOST", "RC_API_SECRET_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        open_token_store("vault:robaws_oauth").get("robaws:app")
    text = str(caught.value)
    assert text.startswith("Vault secret 'robaws_oauth' could not be read:") and "RC_API_SECRET_HOST" in text
    assert "\n" not in text
