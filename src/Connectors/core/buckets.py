"""Token buckets kept as one number, taken by reservation.

The bucket is GCRA, the algorithm behind pyrate-limiter's ``TokenBucket``: its state is a
theoretical arrival time (``tat``, integer microseconds), and a call may go once ``tat`` is within
``burst`` emission intervals of now.

What differs is how a refused call waits, and that is why this is not pyrate-limiter's code.
pyrate-limiter polls: a refused caller sleeps for the retry-after and asks again. With N workers
sharing one store they all wake at the same instant, one wins and N - 1 ask again, so each token
costs up to N store transactions, and that contention becomes the jitter that bunches requests up
at the server. Here a refused call books the slot it would have waited for (the state moves on as
if it had arrived then): one transaction per request, and the workers queue in order. The same
few lines also run as Lua inside Redis (``redis_store``), so they stay plain integer arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    """A bucket as a worker applies it: ``per_second`` refill and room for ``burst`` tokens."""

    per_second: float
    burst: int

    @property
    def emission_us(self) -> int:
        # Rounded up: a rate that does not divide evenly errs on the slow side.
        return max(1, math.ceil(1_000_000 / self.per_second))

    def tokens(self, tat: int, now_ms: int) -> float:
        """Tokens left at ``now_ms`` in a bucket whose state is ``tat`` (negative: slots booked ahead)."""
        owed = max(0, tat - now_ms * 1000)
        return self.burst - owed / self.emission_us


def reserve(tat: int, shape: Shape, now_ms: int) -> tuple[int, float]:
    """Book the next slot: (the new state, seconds to wait before the call may go)."""
    now_us = now_ms * 1000
    emission = shape.emission_us
    new_tat = max(tat, now_us) + emission
    allowed_at = new_tat - shape.burst * emission
    return new_tat, max(0, allowed_at - now_us) / 1_000_000


def drain(tat: int, shape: Shape, tokens: float, now_ms: int) -> int:
    """The state with at most ``tokens`` left now (a negative count is a pause for everyone)."""
    return max(tat, now_ms * 1000 + math.ceil((shape.burst - tokens) * shape.emission_us))
