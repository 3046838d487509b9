"""Where throttle state lives: this process, a SQLite file, or Redis - and what happens when it fails.

``CONNECTORS_THROTTLE_STORE`` = ``memory`` (default) | ``sqlite:///path/file.db`` | ``redis://host:port/db``.

Every backend offers one operation, ``transact(keys, step)``: read the small JSON states of a few
keys, let ``step`` compute the new ones, write them back atomically (a lock, an immediate SQLite
transaction, a Redis WATCH/MULTI). The throttling logic (``buckets``, ``quota``) is written once,
as plain functions, whatever the backend.

``ThrottleStore`` puts the configured backend in front of the worker's own memory. When the
shared backend fails (Redis down or unreachable, the SQLite file locked or unwritable) the call
is served from memory, where the throttle takes only this worker's share of each limit; it says
so once, tries the shared backend again after a back-off, and says so once when it is back.
A store that fails never fails a request.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from Connectors.core import admission
from Connectors.core.admission import Admission, Admit
from Connectors.core.errors import ConfigurationError

T = TypeVar("T")
State = dict[str, Any]
States = dict[str, State | None]
# step(states) -> (states to write, result); it may run more than once (a Redis WATCH retry).
Step = Callable[[States], tuple[dict[str, State], T]]

# How long a state outlives its last write (a day's quota window plus slack).
STATE_TTL_SECONDS = 2 * 86_400
RETRY_FIRST, RETRY_MAX = 1.0, 30.0


class StoreUnavailable(Exception):
    """The shared backend could not complete a transaction (the caller falls back to memory)."""


class Backend(ABC):
    kind = ""
    shared = False

    @abstractmethod
    def transact(self, keys: Sequence[str], step: Step[T]) -> T: ...

    def admit(self, request: Admit) -> Admission:
        """Count a request against the day and book its slot, in one transaction."""

        def step(states: States) -> tuple[dict[str, State], Admission]:
            return admission.admit(states, request, self.now_ms())

        return self.transact(request.store_keys(), step)

    def now_ms(self) -> int:
        """The clock bucket states are kept in (a shared store needs the wall clock)."""
        return time.time_ns() // 1_000_000

    def close(self) -> None:
        return None


class MemoryBackend(Backend):
    """State in this process: shared by every client in it, invisible to other processes."""

    kind = "memory"

    def __init__(self) -> None:
        self._data: dict[str, State] = {}
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        # Private to the process, so the monotonic clock: immune to the wall clock being set.
        return time.monotonic_ns() // 1_000_000

    def transact(self, keys: Sequence[str], step: Step[T]) -> T:
        with self._lock:
            changes, result = step({key: _copy(self._data.get(key)) for key in keys})
            self._data.update(changes)
            return result


def _copy(state: State | None) -> State | None:
    return None if state is None else dict(state)


_MEMORY = MemoryBackend()  # CONNECTORS_THROTTLE_STORE=memory
_FALLBACK = MemoryBackend()  # a worker's share while its shared store is away


def forget_local_state() -> None:
    """Forget every limit and daily count this process keeps in memory.

    For tests that reset or reconfigure the server they talk to: what the client remembers of
    the old server (a day it reported spent) no longer holds.
    """
    for backend in (_MEMORY, _FALLBACK):
        with backend._lock:
            backend._data.clear()


def describe_store(url: str | None) -> str:
    """The kind of store a ``CONNECTORS_THROTTLE_STORE`` value selects, for status output."""
    if not url or url == "memory":
        return "memory"
    return urlparse(url).scheme or "memory"


def open_backend(url: str | None) -> Backend | None:
    """The shared backend ``url`` names (not yet connected), or None for ``memory``."""
    kind = describe_store(url)
    if kind == "memory":
        return None
    assert url is not None
    parsed = urlparse(url)
    if kind == "sqlite":
        # sqlite:///tmp/t.db is the absolute /tmp/t.db; sqlite://dir/t.db is relative to the cwd.
        path = unquote(parsed.netloc + parsed.path) if parsed.netloc else "/" + unquote(parsed.path).lstrip("/")
        if path in ("", "/"):
            raise ConfigurationError(f"Throttle store {url!r} names no file.", hint="Use sqlite:///path/to/file.db")
        from Connectors.core.sqlite_store import SQLiteBackend

        return SQLiteBackend(path)
    if kind in ("redis", "rediss", "unix"):
        from Connectors.core.redis_store import RedisBackend

        return RedisBackend(url)
    raise ConfigurationError(
        f"Unknown throttle store {url!r}.", hint="Use memory, sqlite:///path/file.db or redis://host:port/db."
    )


@dataclass(slots=True)
class Context:
    """What a step needs to know about the backend it runs on."""

    shared: bool  # False: this worker's own memory, where it takes only its share
    epoch: int  # changes whenever the worker switches between the shared store and its memory
    now_ms: Callable[[], int]


class ThrottleStore:
    """The configured backend with this worker's memory behind it; one per store URL and process."""

    _instances: dict[str, ThrottleStore] = {}
    _instances_lock = threading.Lock()

    @classmethod
    def for_url(cls, url: str | None, log: Callable[[str], None]) -> ThrottleStore:
        name = url or "memory"
        with cls._instances_lock:
            store = cls._instances.get(name)
            if store is None:
                store = cls._instances[name] = cls(url, log)
            return store

    def __init__(self, url: str | None, log: Callable[[str], None]) -> None:
        self.url = url or "memory"
        self.kind = describe_store(url)
        self._primary = open_backend(url)
        self._log = log
        self._lock = threading.Lock()
        self._down = False
        self._retry_at = 0.0
        self._backoff = RETRY_FIRST
        self.epoch = 0
        self.problem = ""

    @property
    def shared(self) -> bool:
        """Whether calls are being served by a shared backend right now."""
        return self._primary is not None and not self._down

    def run(self, keys: Sequence[str], step: Callable[[States, Context], tuple[dict[str, State], T]]) -> T:
        """Run ``step`` as a transaction on ``keys``: in the shared store, else in this worker's memory."""

        def call(backend: Backend, context: Context, prefix: str) -> T:
            def local(states: States) -> tuple[dict[str, State], T]:
                changes, result = step({key: states[prefix + key] for key in keys}, context)
                return {prefix + key: value for key, value in changes.items()}, result

            return backend.transact([prefix + key for key in keys], local)

        return self._dispatch(call)

    def admit(self, build: Callable[[Context], Admit]) -> tuple[Admission, Context]:
        """Count and book one request (``build`` says how, given where it runs)."""

        def call(backend: Backend, context: Context, prefix: str) -> tuple[Admission, Context]:
            request = build(context)
            if prefix:
                daily = request.daily
                request = replace(
                    request,
                    bucket_key=prefix + request.bucket_key if request.bucket_key else None,
                    daily=replace(daily, key=prefix + daily.key) if daily else None,
                )
            return backend.admit(request), context

        return self._dispatch(call)

    def _dispatch(self, call: Callable[[Backend, Context, str], T]) -> T:
        primary = self._primary
        if primary is not None:
            with self._lock:
                down = self._down
                attempt = not down or time.monotonic() >= self._retry_at
                epoch = self.epoch + 1 if down else self.epoch
            if attempt:
                try:
                    result = call(primary, Context(True, epoch, primary.now_ms), "")
                except StoreUnavailable as error:
                    self._failed(str(error))
                else:
                    if down:
                        self._recovered(epoch)
                    return result
            # The worker's share lives apart from CONNECTORS_THROTTLE_STORE=memory state.
            return call(_FALLBACK, Context(False, self.epoch, _FALLBACK.now_ms), f"{self.url}|")
        return call(_MEMORY, Context(False, self.epoch, _MEMORY.now_ms), "")

    def _failed(self, problem: str) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + self._backoff
            retry_in = self._backoff
            self._backoff = min(RETRY_MAX, self._backoff * 2)
            if self._down:
                return
            self._down = True
            self.epoch += 1
            self.problem = problem
        self._log(
            f"The throttle store {_safe_url(self.url)} is unavailable ({problem}); this worker now takes its "
            f"own share of the limits (CONNECTORS_THROTTLE_WORKERS) and retries the store in {retry_in:.0f} s."
        )

    def _recovered(self, epoch: int) -> None:
        with self._lock:
            if not self._down:
                return
            self._down = False
            self.epoch = epoch
            self._backoff = RETRY_FIRST
            self.problem = ""
        self._log(f"The throttle store {_safe_url(self.url)} is back; the shared limits apply again.")

    def describe(self) -> str:
        if self._primary is None:
            return "memory"
        return self.kind if not self._down else f"{self.kind} unavailable, worker share in memory"


def _safe_url(url: str) -> str:
    """The store's URL without a password (redis://:secret@host)."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@", 1)
    return url
