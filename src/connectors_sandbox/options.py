"""The sandbox's settings (command line, ``/_sandbox/config``); plain Python, so the command can check them
before the ``[sandbox]`` extra is imported."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

VENDORS = ("robaws", "cobot", "controlroom", "robostack")
ADMIN_TOKEN_VARIABLE = "CONNECTORS_SANDBOX_ADMIN_TOKEN"
MAX_SLOW_SECONDS = 600.0

_FAULT_NAMES = {
    "5xx": "server_error",
    "500": "server_error",
    "reset": "reset",
    "lost": "lost",
    "slow": "slow",
    "slow_seconds": "slow_seconds",
}


@dataclass
class FaultSpec:
    """Probabilities of injected faults per request (``--faults 5xx=0.1,reset=0.05,lost=0.05,slow=0.02``)."""

    server_error: float = 0.0
    reset: float = 0.0
    lost: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 1.0

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        """Parse the ``--faults`` syntax; a ``ValueError`` says which part is wrong."""
        spec = cls()
        for part in (text or "").split(","):
            if not part.strip():
                continue
            name, sign, value = part.partition("=")
            attr = _FAULT_NAMES.get(name.strip().lower())
            if attr is None:
                raise ValueError(f"unknown fault {name.strip()!r}: use 5xx, reset, lost, slow, slow_seconds")
            try:
                number = float(value) if sign else math.nan
            except ValueError:
                number = math.nan
            limit = MAX_SLOW_SECONDS if attr == "slow_seconds" else 1.0
            if not 0.0 <= number <= limit:
                wanted = (
                    f"seconds up to {MAX_SLOW_SECONDS:g}" if attr == "slow_seconds" else "a probability from 0 to 1"
                )
                raise ValueError(f"{name.strip()}={value.strip()} is not valid: give {wanted}, e.g. {name.strip()}=0.1")
            setattr(spec, attr, number)
        if spec.server_error + spec.reset + spec.lost + spec.slow > 1.0:
            raise ValueError("the fault probabilities add up to more than 1")
        return spec

    @property
    def active(self) -> bool:
        return any((self.server_error, self.reset, self.lost, self.slow))


@dataclass
class SandboxOptions:
    demo: bool = False
    rate_scale: float = 1.0
    seed: int | None = None
    faults: FaultSpec = field(default_factory=FaultSpec)
    # Seconds a Control Room run takes in sandbox time, and how fast sandbox time runs (also the
    # spacing of webhook retries).
    run_seconds: float = 6.0
    time_scale: float = 1.0
    public_url: str = ""
    vendors: tuple[str, ...] = VENDORS
    # When set, every /_sandbox/* request needs ``Authorization: Bearer <admin_token>``.
    admin_token: str | None = None
