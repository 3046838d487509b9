"""Extra fields by value: plain values in, Robaws' typed values on the wire, plain values back."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from test_robaws_client_offline import Recorded, make_client

from Connectors.core.errors import ValidationError
from Connectors.Robaws import Robaws
from Connectors.vendors.robaws.query import extra_fields_body, plain_extra_fields


@pytest.mark.parametrize(
    ("value", "typed"),
    [
        ("Website", {"stringValue": "Website"}),
        ("", {"stringValue": ""}),
        (3, {"integerValue": 3}),
        (2.5, {"decimalValue": 2.5}),
        (Decimal("3.67"), {"decimalValue": 3.67}),
        (True, {"booleanValue": True}),
        (False, {"booleanValue": False}),
        (date(2021, 7, 8), {"dateValue": "2021-07-08"}),
        (datetime(2021, 7, 8, 13, 30), {"dateValue": "2021-07-08"}),
    ],
)
def test_each_plain_value_gets_its_robaws_value_key(value: Any, typed: dict[str, Any]) -> None:
    body = extra_fields_body({"name": "ACME"}, {"Field": value}, keep_none=False)
    assert body == {"name": "ACME", "extraFields": {"Field": typed}}


@pytest.mark.parametrize("value", [["a"], {"stringValue": "x"}, ("a",), {"a"}, b"x", float("nan"), object()])
def test_a_value_without_a_robaws_value_key_fails_in_one_line(value: Any) -> None:
    with pytest.raises(ValidationError) as error:
        extra_fields_body({}, {"Contact via": value}, keep_none=False)
    text = str(error.value)
    assert "extra_fields['Contact via']" in text and "\n" not in text


def test_both_extra_fields_and_a_raw_extra_fields_field_fail_in_one_line() -> None:
    with pytest.raises(ValidationError, match="given twice"):
        extra_fields_body({"extraFields": {"A": {"stringValue": "x"}}}, {"A": "x"}, keep_none=False)


def test_none_clears_a_field_on_update_and_is_left_out_on_create() -> None:
    assert extra_fields_body({}, {"A": None, "B": 1}, keep_none=True) == {
        "extraFields": {"A": None, "B": {"integerValue": 1}}
    }
    assert extra_fields_body({}, {"A": None, "B": 1}, keep_none=False) == {"extraFields": {"B": {"integerValue": 1}}}


def test_plain_extra_fields_of_an_answer() -> None:
    entity = {
        "id": 1,
        "extraFields": {
            "Contact via": {"stringValue": "Website"},
            "Visits": {"integerValue": 3},
            "Rating": {"decimalValue": 4.5},
            "VIP": {"booleanValue": True},
            "Since": {"dateValue": "2021-07-08"},
        },
    }
    assert plain_extra_fields(entity) == {
        "Contact via": "Website",
        "Visits": 3,
        "Rating": 4.5,
        "VIP": True,
        "Since": "2021-07-08",
    }
    assert plain_extra_fields({"id": 1}) == {}
    with pytest.raises(ValidationError, match="entity must be"):
        plain_extra_fields(["not", "an", "entity"])


def test_create_and_update_keywords_send_typed_values_and_answers_keep_robaws_shape() -> None:
    typed = {"Contact via": {"stringValue": "Website"}, "VIP": {"booleanValue": True}}

    def answer(call: Recorded) -> tuple[int, Any]:
        return (201 if call.method == "POST" else 200), {"id": 7, "name": "ACME", "extraFields": typed}

    client, adapter = make_client(answer)
    library = Robaws()
    library.client = client
    created = library.create_robaws_client(name="ACME", extra_fields={"Contact via": "Website", "VIP": True})
    assert created["extraFields"] == typed
    library.update_robaws_resource("clients", 7, extra_fields={"Visits": 4, "Contact via": None})
    sent = [json.loads(call.body or b"{}") for call in adapter.calls]
    assert sent == [
        {"name": "ACME", "extraFields": typed},
        {"extraFields": {"Visits": {"integerValue": 4}, "Contact via": None}},
    ]
    assert library.get_robaws_extra_fields(created) == {"Contact via": "Website", "VIP": True}
    with pytest.raises(ValidationError, match="given twice"):
        library.create_robaws_resource("clients", {"name": "X", "extraFields": typed}, extra_fields={"VIP": False})
    with pytest.raises(ValidationError, match="a Robaws extra field holds"):
        library.update_robaws_resource("clients", 7, extra_fields={"Tags": ["a", "b"]})
    assert len(adapter.calls) == 2  # refused before sending
