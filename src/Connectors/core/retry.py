"""When to repeat a request, and how long to wait first.

urllib3's ``Retry`` is not used: it retries below the throttle (repeats would bypass the token
bucket), cannot log each retry for Robot Framework, and knows nothing of idempotency keys.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Methods that HTTP defines as idempotent; vendors override per request (an API whose PUT creates).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    # Attempts when nothing answers at all (refused, unknown host, connect timeout): a server that is
    # down or a mistyped URL should fail in about a second, not after a minute of back-off.
    connect_attempts: int = 3
    backoff_base: float = 0.25
    backoff_cap: float = 20.0
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 500, 502, 503, 504}))
    # Statuses that mean "refused before processing": safe to repeat even a non-idempotent request.
    refused_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 503}))
    # Longest Retry-After we will sleep on; beyond it the caller gets RateLimited at once.
    max_retry_after: float = 120.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Capped exponential back-off with "equal jitter", never shorter than ``Retry-After``."""
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** max(0, attempt - 1)))
        jittered = ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        if retry_after is not None:
            return max(retry_after, 0.0) + self.rng.uniform(0, min(0.25, ceiling / 4))
        return jittered

    def status_is_retryable(self, status: int, *, can_repeat: bool) -> bool:
        if status not in self.retry_statuses:
            return False
        return can_repeat or status in self.refused_statuses
