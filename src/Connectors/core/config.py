"""What a connection setting's text means: rate specifications, numbers, URLs, secret values.

Each ``Setting`` of a profile parses its own value with one of these (``Setting.parse``); a value that
does not parse raises ``Invalid`` saying what it should be, and the resolver names where it came from.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Protocol, Union

from Connectors.core.errors import ConfigurationError
from Connectors.core.redact import redactor

_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
}
_RATE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/|per)\s*(\d+(?:\.\d+)?)?\s*([a-z]+)\s*$", re.I)


@dataclass(frozen=True)
class RateSpec:
    """A token bucket: ``limit`` requests per ``period`` seconds, holding at most ``burst``."""

    limit: float
    period: float = 1.0
    burst: int | None = None

    @property
    def per_second(self) -> float:
        return self.limit / self.period

    @property
    def capacity(self) -> int:
        return self.burst if self.burst is not None else max(1, int(self.limit))

    def scaled(self, factor: float) -> RateSpec:
        burst = None if self.burst is None else max(1, round(self.burst * factor))
        return RateSpec(self.limit * factor, self.period, burst)

    def with_burst(self, burst: int | None) -> RateSpec:
        return self if burst is None else RateSpec(self.limit, self.period, int(burst))

    def __str__(self) -> str:
        unit = {1.0: "s", 60.0: "min", 3600.0: "h", 86400.0: "day"}.get(self.period, f"{self.period}s")
        limit = int(self.limit) if float(self.limit).is_integer() else self.limit
        return f"{limit}/{unit}" + (f" burst {self.burst}" if self.burst is not None else "")

    @classmethod
    def parse(cls, text: str | RateSpec, burst: int | str | None = None) -> RateSpec:
        """Parse ``15/s``, ``60/min``, ``6 per minute``, ``100/10s``."""
        if isinstance(text, RateSpec):
            return text.with_burst(int(burst) if burst not in (None, "") else None)
        match = _RATE_RE.match(str(text))
        unit = match.group(3).lower().rstrip("s") if match else ""
        if not match or (unit not in _UNITS and match.group(3).lower() not in _UNITS):
            raise ConfigurationError(
                f"Invalid rate limit {text!r}.",
                hint="Write it as <count>/<unit>, for example 15/s, 60/min or 10000/day.",
            )
        seconds = _UNITS.get(unit, _UNITS.get(match.group(3).lower(), 1.0))
        period = float(match.group(2) or 1) * seconds
        burst_value = int(burst) if burst not in (None, "") else None  # type: ignore[arg-type]
        return cls(float(match.group(1)), period, burst_value)


class Invalid(ValueError):
    """A setting's value that does not parse; the text says what it should be ("a positive number")."""


#: What switches a limit off.
OFF = ("none", "off", "unlimited", "0")


def text(value: Any) -> str:
    return str(value).strip()


def positive_int(value: Any) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if number < 1:
        raise Invalid("a whole number, 1 or more")
    return number


def positive_number(value: Any) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        number = 0
    if not number > 0 or number == float("inf"):
        raise Invalid("a positive number")
    return number


def rate_limit(value: Any) -> RateSpec | bool | None:
    """``15/s`` → its ``RateSpec``; ``off`` → ``False`` (no client-side limit); ``default`` → ``None``."""
    if isinstance(value, RateSpec):
        return value
    word = str(value).strip().lower()
    if word in OFF:
        return False
    if word == "default":
        return None
    try:
        return RateSpec.parse(word)
    except ConfigurationError:
        raise Invalid("<count>/<unit>, for example 15/s, 60/min or 10000/day (or 'off')") from None


def daily_quota(value: Any) -> int:
    """A number of requests per day; ``none`` (``0``) switches the quota off."""
    if str(value).strip().lower() in OFF:
        return 0
    try:
        return positive_int(value)
    except Invalid:
        raise Invalid("a number of requests per day, or 'none'") from None


def http_url(value: Any) -> str:
    url = str(value).strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise Invalid("an http(s) URL")
    return url


class SecretLike(Protocol):
    """Robot Framework's ``Secret`` (or anything with a ``value``): a credential that logs as ``<secret>``."""

    @property
    def value(self) -> Any: ...


#: A credential argument: plain text, a Robot Framework ``Secret``, or nothing (look it up elsewhere).
Credential = Union[str, SecretLike, None]


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def secret_value(value: Any) -> str | None:
    """The plain text of a credential given as ``str``, Robot Framework ``Secret`` or ``None``.

    Every value that passes here is registered with the redactor, so it is masked in all logs.
    """
    if value is None:
        return None
    text = getattr(value, "value", value)
    if not isinstance(text, str):
        text = str(text)
    if text == "":
        return None
    redactor.register(text)
    return text


def require(value: str | None, what: str, variable: str) -> str:
    if not value:
        raise ConfigurationError(
            f"{what} is not set.", hint=f"Pass it as an argument or set the environment variable {variable}."
        )
    return value
