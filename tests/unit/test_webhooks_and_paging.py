from __future__ import annotations

import pytest

from Connectors.core.paging import Page, paginate
from Connectors.core.webhooks import SignatureError, sign_body, sign_timestamped, verify_body, verify_timestamped


def test_timestamped_signature_round_trip_and_tampering() -> None:
    header = sign_timestamped("whsec", b'{"a":1}', timestamp=1_700_000_000)
    assert verify_timestamped("whsec", b'{"a":1}', header, now=1_700_000_100) == 1_700_000_000
    with pytest.raises(SignatureError, match="does not match"):
        verify_timestamped("whsec", b'{"a":2}', header, now=1_700_000_100)
    with pytest.raises(SignatureError, match="does not match"):
        verify_timestamped("other", b'{"a":1}', header, now=1_700_000_100)
    with pytest.raises(SignatureError, match="beyond the 300 s tolerance"):
        verify_timestamped("whsec", b'{"a":1}', header, now=1_700_000_400)
    with pytest.raises(SignatureError, match="lacks the t or v1 part"):
        verify_timestamped("whsec", b"{}", "v0=abc")
    # unknown parts are ignored, any v1 may match (secret rotation)
    extra = header.replace("t=", "x=1,t=") + ",v1=deadbeef"
    verify_timestamped("whsec", b'{"a":1}', extra, now=1_700_000_000)


def test_plain_body_signature() -> None:
    signature = sign_body("k", "body")
    verify_body("k", "body", signature)
    verify_body("k", "body", "sha256=" + signature.upper())
    with pytest.raises(SignatureError):
        verify_body("k", "body2", signature)
    with pytest.raises(SignatureError, match="no signature header"):
        verify_body("k", "body", None)


def test_paging_is_lazy_and_stops_at_limit() -> None:
    fetched = []

    def fetch(page):
        number = page or 0
        fetched.append(number)
        return Page([f"{number}-{i}" for i in range(3)], number + 1 if number < 9 else None)

    items = paginate(fetch, limit=7)
    assert fetched == []  # nothing until iterated
    assert len(list(items)) == 7
    assert fetched == [0, 1, 2]
    assert len(list(paginate(fetch))) == 30
