"""Building request paths from user data: every id and collection name is one path segment.

An id comes from a work item, a spreadsheet or a webhook, so it is data, never a path: ``../`` must
not climb out of the API, ``?`` and ``#`` must not start a query or a fragment, and control characters
must not reach the wire. Each value is validated and percent-encoded here, and a value that cannot be
a segment fails with one line naming the argument. Vendor clients never concatenate paths by hand.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from Connectors.core.errors import ValidationError

# Longest segment we send: ids and names are short, and a huge value is a mistake, not an id.
MAX_SEGMENT = 512


def segment(value: Any, argument: str) -> str:
    """``value`` as one percent-encoded path segment, or ``ValidationError`` naming ``argument``."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        kind = "nothing" if value is None else type(value).__name__
        raise ValidationError(
            f"{argument} must be a text or a whole number, got {kind}.",
            hint=f"Pass the {argument.replace('_', ' ')} itself, e.g. 42 or an id from an earlier result.",
        )
    problem, encoded = _checked(str(value))
    if problem:
        raise ValidationError(
            f"{argument} {problem}.", hint=f"Pass the {argument.replace('_', ' ')} as the vendor shows it."
        )
    return encoded


@lru_cache(maxsize=1024)
def _checked(text: str) -> tuple[str, str]:
    # The same collection names and ids recur on every call of a loop: checked and encoded once each.
    # safe="": "/" becomes %2F, so a value is always exactly one segment.
    problem = _problem(text)
    return problem, "" if problem else quote(text, safe="")


def _problem(text: str) -> str:
    if not text.strip():
        return "is empty"
    if len(text) > MAX_SEGMENT:
        return f"has {len(text)} characters (at most {MAX_SEGMENT})"
    if text.strip() in (".", ".."):
        # Percent-encoding does not help: servers normalise %2E%2E back to "..".
        return "is a dot segment ('.' or '..')"
    if any(unicodedata.category(char) in ("Cc", "Cs") or char in "\u2028\u2029" for char in text):
        return "contains a control character"
    return ""


def join(*segments: str) -> str:
    """``/a/b/c`` from already-encoded segments (see ``segment``)."""
    return "/" + "/".join(segments)


def build(*parts: tuple[Any, str] | str) -> str:
    """A path from literal parts (``"clients"``) and data parts (``(value, "argument name")``)."""
    encoded = [part if isinstance(part, str) else segment(*part) for part in parts]
    return join(*encoded)
