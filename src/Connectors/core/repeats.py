"""Making a repeated write safe: the journal of writes whose outcome is unknown.

Robot Framework users repeat a failed keyword (``Wait Until Keyword Succeeds``), and Python users
wrap calls in their own retry loops. When the first attempt of a write failed in a way that may have
applied it (a lost answer, a 5xx, retries that ran out), repeating it must not create a second
object. The journal remembers such a write by its fingerprint - the vendor, the credential, the
method, the path and the body - with the idempotency key it used and when it started:

- a vendor that honours idempotency keys gets the same key again, so it replays instead of creating;
- a client of a vendor without keys asks ``pending()`` and checks what exists before writing again.

Only failed or uncertain writes are remembered, and a success forgets them, so two deliberate,
identical writes in a row still make two objects.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from Connectors.core.errors import ConfigurationError

# Enough for a long robot run; the oldest entries go first.
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class PendingWrite:
    idempotency_key: str | None
    started_at: float


def fingerprint(*parts: Any) -> str:
    """A stable digest of a logical write (JSON-canonical, so dict order does not matter)."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", errors="surrogatepass")).hexdigest()


class WriteJournal:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[str, PendingWrite] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def pending(self, write: str) -> PendingWrite | None:
        with self._lock:
            return self._entries.get(write)

    def remember(self, write: str, idempotency_key: str | None, started_at: float | None = None) -> PendingWrite:
        with self._lock:
            entry = self._entries.get(write) or PendingWrite(idempotency_key, started_at or time.time())
            self._entries[write] = entry
            self._entries.move_to_end(write)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
            return entry

    def forget(self, write: str) -> None:
        with self._lock:
            self._entries.pop(write, None)

    @contextmanager
    def operation(self, write: str, given_key: str | None = None) -> Iterator[str]:
        """The idempotency key of a write made of several requests (create, upload, attach …).

        The caller's key when given; else the key of an earlier attempt of the same operation that
        failed; else a new one. Any failure remembers it - an earlier step may have succeeded - and
        success forgets it.
        """
        pending = self.pending(write)
        key = given_key or (pending.idempotency_key if pending and pending.idempotency_key else None)
        key = key or str(uuid.uuid4())
        try:
            yield key
        except BaseException:
            self.remember(write, key)
            raise
        self.forget(write)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


#: One journal per process: a repeat may come through a new client object (a reconnect).
journal = WriteJournal()


def key_for(*parts: Any, max_length: int = 128) -> str:
    """A stable idempotency key (at most ``max_length`` characters) derived from business keys.

    The same parts always give the same key, so a re-run robot replays its earlier requests instead of
    creating duplicates. The readable prefix helps when reading logs; the hash makes the key unique even
    when the prefix is cut short or the parts contain separators.
    """
    if not parts or all(str(part) == "" for part in parts):
        raise ConfigurationError(
            "An idempotency key needs at least one non-empty business key.",
            hint="Pass e.g. the work item id or the supplier invoice number.",
        )
    canonical = json.dumps([str(part) for part in parts], ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8", errors="surrogatepass")).hexdigest()[:40]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(str(part) for part in parts)).strip("-")
    readable = readable[: max(0, min(80, max_length - len(digest) - 1))]
    return f"{readable}-{digest}" if readable else digest[:max_length]
