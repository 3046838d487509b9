"""Progress of long waits and bulk operations: a line on the console at most every ``EVERY`` seconds, and
nothing when the operation is quick.

A robot that waits twenty minutes for runs, creates ten thousand records or sleeps through a throttle
pause otherwise shows nothing until it ends. The same lines go to the log at INFO (``core/log``), and
both pass the redactor. Outside Robot Framework the console is ``logging`` (the caller decides where it
goes): a library must not print into a program's output.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from Connectors.core import log
from Connectors.core.redact import redactor

#: Seconds between two progress lines of one operation (and before the first).
EVERY = 10.0
#: A pause this long or longer is announced when it starts (shorter ones pass silently).
LONG_PAUSE = 5.0

Clock = Callable[[], float]


def _console(text: str, first: bool = False) -> None:
    """One line on Robot Framework's console (and INFO in its log); ``logging`` at INFO elsewhere.

    ``first``: the operation's first line starts on a line of its own, not after the task's name, which Robot
    Framework's console leaves open until the task ends.
    """
    if log.in_robot():
        from robot.api import logger

        logger.console(("\n" if first else "") + redactor.redact(text))
    log.info(text)


class Progress:
    """One long operation's progress reporter.

    ``update`` is cheap to call on every step: it builds and writes the line (``describe()``) only when
    ``every`` seconds have passed since the start or since the last line. ``write`` replaces the console and
    the log (tests).
    """

    def __init__(
        self, every: float | None = None, *, clock: Clock = time.monotonic, write: Callable[[str], None] | None = None
    ) -> None:
        self.every = EVERY if every is None else every
        self._clock = clock
        self._write = write
        self.started = clock()
        self._last = self.started
        self.lines = 0

    @property
    def elapsed(self) -> float:
        return self._clock() - self.started

    def update(self, describe: Callable[[float], str]) -> bool:
        """Write ``describe(elapsed seconds)`` if the last line (or the start) is ``every`` seconds old."""
        now = self._clock()
        if now - self._last < self.every:
            return False
        self._last = now
        self.lines += 1
        line = describe(now - self.started)
        if self._write is None:
            _console(line, first=self.lines == 1)
        else:
            self._write(line)
        return True


_pause_lock = threading.Lock()
_last_pause: dict[str, float] = {}


def pause(
    seconds: float,
    why: str,
    *,
    key: str = "",
    clock: Clock = time.monotonic,
    write: Callable[[str], None] = _console,
) -> bool:
    """Announce a pause of ``seconds`` (``why``: which limit or quota) if it is long, at most one line per
    ``EVERY`` seconds for the same ``key`` (many workers pausing on one bucket say it once)."""
    if seconds < LONG_PAUSE:
        return False
    now = clock()
    with _pause_lock:
        last = _last_pause.get(key)
        if last is not None and now - last < EVERY:  # read here, so a test can shorten it
            return False
        _last_pause[key] = now
    write(f"Pausing {seconds:.0f} s: {why}.")
    return True
