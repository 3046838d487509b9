"""Whatever arrives in the signature header or the body, the receiver answers 400, 401 or 413 with one of
its own sentences, never 500, never a stored event, and never the attacker's text."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from Connectors.core.webhooks import sign_timestamped  # noqa: E402
from Connectors.webhooks.dispatcher import Dispatcher  # noqa: E402
from Connectors.webhooks.receiver import Receiver  # noqa: E402
from Connectors.webhooks.sinks import WorkItemFolder  # noqa: E402
from Connectors.webhooks.sources import controlroom_source, robaws_source  # noqa: E402
from Connectors.webhooks.store import EventStore  # noqa: E402

MARKER = "ATTACKER"


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Receiver:
    root: Path = tmp_path_factory.mktemp("receiver")
    store = EventStore(root / "events.db")
    sink = WorkItemFolder(root / "out")
    sink.prepare()
    sources = {s.name: s for s in (robaws_source("whsec-1"), controlroom_source("cr-1"))}
    return Receiver(store, sources, Dispatcher(store, sink), max_body=4096)


header_parts = st.one_of(
    st.text(max_size=80),
    st.builds(lambda t: f"t={t}", st.text(max_size=20)),
    st.builds(lambda v: f"v1={v}", st.text(alphabet="0123456789abcdefABCDEFxyz", max_size=70)),
    st.builds(lambda n: f"t={n}", st.integers(min_value=-(10**15), max_value=10**15)),
    st.just(f"v1={'0' * 64}"),
)
headers = st.one_of(st.text(max_size=300), st.lists(header_parts, max_size=12).map(",".join))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=headers, body=st.binary(max_size=200), source=st.sampled_from(["robaws", "controlroom"]))
def test_any_header_is_refused_cleanly(receiver: Receiver, header: str, body: bytes, source: str) -> None:
    name = "robaws-signature" if source == "robaws" else "x-rc-signature"
    before = receiver.store.count()
    status, answer = receiver.handle(source, body + MARKER.encode(), {name: header + MARKER})
    assert status in (400, 401), (status, answer)
    assert MARKER not in answer["error"]
    assert receiver.store.count() == before


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    event=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=10,
    )
)
def test_any_signed_json_is_stored_or_refused_with_400(receiver: Receiver, event: object) -> None:
    body = json.dumps(event).encode()
    status, answer = receiver.handle(
        "robaws", body, {"robaws-signature": sign_timestamped("whsec-1", body, int(time.time()))}
    )
    if status == 200:
        assert isinstance(event, dict) and str(event["id"]) == answer["id"]
    else:
        assert status in (400, 413) and answer["error"] in (
            "the body is not a JSON object with an event id",
            "the body is larger than 4096 bytes",
        )
