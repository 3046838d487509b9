"""Incremental sync of a Robaws collection: the entities created or updated since a named checkpoint.

Robaws' advice for keeping data in step is ``updatedFrom`` on the collections (items with ``updatedAt`` at
or after the value) plus webhooks instead of polling. A sync reads ``updatedFrom=<checkpoint - window>``
sorted by ``updatedAt`` and pages by moving ``updatedFrom`` to the last ``updatedAt`` it saw (keyset
paging), not by page number alone: an entity updated while the sync runs moves to the end of the order,
which would shift page numbers and skip whatever slid back across a page boundary. Only when a whole page
shares one ``updatedAt`` does it step by page number.

The checkpoint is the latest ``updatedAt`` *handed out*, with the ids handed out within the safety window
before it (``SAFETY_WINDOW_SECONDS``). The next sync reaches back by that window - so a change committed
late with an earlier ``updatedAt`` is still found - and skips what it already delivered, by id and
``updatedAt``. The checkpoint moves only when the caller says the changes were handled (``advance``, or a
``with`` block that ends without an exception; the keywords: the test or task ends with PASS): a process
killed mid-page leaves it where it was, and the next run delivers those changes again - at least once,
never skipped, the checkpoint never ahead of what was delivered.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any

from Connectors.core.checkpoints import CheckpointStore
from Connectors.core.errors import ConnectorError, ValidationError
from Connectors.vendors.robaws.query import encode_query

if TYPE_CHECKING:
    from Connectors.vendors.robaws.client import RobawsClient

# How far each sync reaches back before its checkpoint (clock skew between Robaws' nodes, late commits).
SAFETY_WINDOW_SECONDS = 60.0
Entity = dict[str, Any]


def instant(text: Any, what: str) -> datetime:
    """An ``updatedAt`` (ISO date-time, ``Z`` or an offset; no zone is UTC) as an aware datetime."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{what} is not an ISO date-time: {str(text)[:40]!r}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class SyncState:
    """What a checkpoint holds: the latest ``updatedAt`` delivered and what was delivered near it."""

    since: str | None = None
    seen: dict[str, str] = field(default_factory=dict)  # entity id -> updatedAt delivered

    @classmethod
    def load(cls, value: dict[str, Any] | None) -> SyncState:
        if not value:
            return cls()
        seen = value.get("seen") or {}
        return cls(value.get("since"), {str(k): str(v) for k, v in seen.items()} if isinstance(seen, dict) else {})

    def dump(self) -> dict[str, Any]:
        return {"since": self.since, "seen": dict(sorted(self.seen.items()))}


@dataclass(eq=False, repr=False)
class Changes:
    """The changes of one sync, read page by page as they are consumed (iterate once).

    ``advance()`` moves the checkpoint to what was handed out; ``with robaws.sync(...) as changes:`` does
    it when the block ends without an exception.
    """

    client: RobawsClient
    path: str
    store: CheckpointStore
    checkpoint: str
    key: str
    start: SyncState
    _: KW_ONLY
    page_size: int
    window: timedelta
    limit: int | None
    delivered: dict[str, str] = field(init=False, default_factory=dict)  # id -> updatedAt handed out by this sync

    def __post_init__(self) -> None:
        self._latest: datetime | None = instant(self.start.since, "The checkpoint") if self.start.since else None
        self._started = False

    def __iter__(self) -> Iterator[Entity]:
        if self._started:
            raise ValidationError("These changes were read already: start a new sync to read them again.")
        self._started = True
        count = 0
        for page in self._pages():
            for entity in page:
                entity_id, updated = str(entity["id"]), str(entity["updatedAt"])
                if self.start.seen.get(entity_id) == updated or self.delivered.get(entity_id) == updated:
                    continue  # delivered before (the overlap), or twice in this sync's pages
                if self.limit is not None and count >= self.limit:
                    return
                # Recorded before it is handed out: the checkpoint may count it only once it was delivered,
                # and it is - the caller decides when to advance, after handling what it received.
                self.delivered[entity_id] = updated
                moment = instant(updated, "updatedAt")
                if self._latest is None or moment > self._latest:
                    self._latest = moment
                count += 1
                yield entity

    def _pages(self) -> Iterator[list[Entity]]:
        cursor = iso(instant(self.start.since, "The checkpoint") - self.window) if self.start.since else None
        page = 0
        while True:
            pairs: list[tuple[str, Any]] = [("sort", "updatedAt:asc,id:asc"), ("page", page), ("size", self.page_size)]
            if cursor is not None:
                pairs.insert(0, ("updatedFrom", cursor))
            body = self.client._call("GET", f"{self.path}?{encode_query(pairs)}")
            items = body.get("items") if isinstance(body, dict) else body
            items = [item for item in items or [] if isinstance(item, dict)]
            self._check(items)
            yield items
            if len(items) < self.page_size:
                return
            last = items[-1]["updatedAt"]
            if cursor is not None and instant(last, "updatedAt") <= instant(cursor, "updatedFrom"):
                page += 1  # a whole page with one updatedAt: step through it by number
            else:
                cursor, page = last, 0

    def _check(self, items: list[Entity]) -> None:
        previous: datetime | None = None
        for item in items:
            if "id" not in item or not isinstance(item.get("updatedAt"), str):
                raise ConnectorError(
                    f"Robaws {self.path} answered an item without id or updatedAt: it cannot be synced.",
                    hint="Sync a collection whose entities carry updatedAt.",
                )
            moment = instant(item["updatedAt"], "updatedAt")
            if previous is not None and moment < previous:
                # Without the order, moving updatedFrom forward could step over a change: stop instead.
                raise ConnectorError(
                    f"Robaws {self.path} did not sort by updatedAt, so a sync could skip changes; nothing was "
                    "advanced.",
                    hint="Report it; until then read the collection with List Robaws Resources.",
                )
            previous = moment

    def state(self) -> SyncState:
        """The checkpoint after what this sync handed out (the one it started from when nothing was)."""
        if self._latest is None:
            return self.start
        floor = self._latest - self.window
        merged = {**self.start.seen, **self.delivered}
        seen = {k: v for k, v in merged.items() if instant(v, "updatedAt") >= floor}
        return SyncState(iso(self._latest), seen)

    def advance(self) -> SyncState:
        """Write the checkpoint: the next sync continues after what this one handed out."""
        state = self.state()
        self.store.put(self.key, state.dump())
        return state

    def __enter__(self) -> Changes:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.advance()
