"""Building request paths from user data: every id is one path segment, a nested collection a few.

An id comes from a work item, a spreadsheet or a webhook, so it is data, never a path: ``../`` must
not climb out of the API, ``?`` and ``#`` must not start a query or a fragment, and control characters
must not reach the wire. Each value is validated and percent-encoded here, and a value that cannot be
a segment fails with one line naming the argument. Vendor clients never concatenate paths by hand.

A nested collection (``clients/42/contacts``) is the one place a value may hold several segments
(``segments``): it is split on ``/`` and each part is checked and encoded on its own, so that ``/``
is never sent encoded (servers of the Tomcat kind refuse ``%2F`` with 400) and nothing in it can
leave the API: empty and dot segments, ``?``, ``#``, ``\\`` and control characters are refused.
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


# Characters a multi-segment path refuses outright: a query, a fragment, and a backslash (which some
# servers read as a separator). In a single id they are data and get encoded; in a path, mistakes.
_PATH_REFUSED = {"?": "a '?' (a query goes in the filters)", "#": "a '#'", "\\": "a backslash"}


def segments(value: Any, argument: str) -> list[str]:
    """``value`` (``clients/42/contacts`` or one name) as percent-encoded segments, each checked on its own.

    Refused with one line naming ``argument``: empty segments (``a//b``, a leading or trailing ``/``),
    ``.`` and ``..``, ``?``, ``#``, a backslash and control characters.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return [segment(value, argument)]
    text = str(value)
    for char, what in _PATH_REFUSED.items():
        if char in text:
            raise ValidationError(
                f"{argument} contains {what}: it must be a path such as clients/42/contacts.",
                hint=f"Pass the {argument.replace('_', ' ')} alone, without a query or a fragment.",
            )
    parts = text.split("/")
    for number, part in enumerate(parts, start=1):
        if len(parts) > 1 and not part:
            raise ValidationError(
                f"{argument} {text[:80]!r} has an empty segment (part {number} of {len(parts)}).",
                hint="Write it without leading, trailing or double slashes, e.g. clients/42/contacts.",
            )
        if len(parts) > 1 and part != part.strip():
            raise ValidationError(
                f"{argument} {text[:80]!r} has spaces around segment {number}.",
                hint="Write it without spaces around the slashes, e.g. clients/42/contacts.",
            )
    return [segment(part, argument) for part in parts]


def join(*segments: str) -> str:
    """``/a/b/c`` from already-encoded segments (see ``segment``)."""
    return "/" + "/".join(segments)


def build(*parts: tuple[Any, str] | list[str] | str) -> str:
    """A path from literal parts (``"clients"``), data parts (``(value, "argument name")``) and parts
    already encoded by ``segments`` (a list)."""
    encoded: list[str] = []
    for part in parts:
        if isinstance(part, str):
            encoded.append(part)
        elif isinstance(part, list):
            encoded.extend(part)
        else:
            encoded.append(segment(*part))
    return join(*encoded)
