"""Every keyword of every library reads like a manual entry: documented with an example, tagged, typed."""

from __future__ import annotations

import importlib

import pytest
from robot.libdocpkg import LibraryDocumentation

LIBRARIES = ["Connectors.Robaws", "Connectors.Cobot", "Connectors.ControlRoom", "Connectors.Robostack"]


@pytest.mark.parametrize("name", LIBRARIES)
def test_every_keyword_is_documented_tagged_and_typed(name: str) -> None:
    library = LibraryDocumentation(name)
    assert len(library.doc) > 500, f"{name} needs an introduction"
    problems = []
    for keyword in library.keywords:
        if "example" not in keyword.doc.lower():
            problems.append(f"{keyword.name}: no example")
        if not keyword.tags:
            problems.append(f"{keyword.name}: no tags")
        for argument in keyword.args:
            if argument.kind in ("VAR_POSITIONAL", "VAR_NAMED"):
                continue
            if not argument.type:
                problems.append(f"{keyword.name}: argument {argument.name} has no type")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", LIBRARIES)
def test_credentials_take_a_secret_or_text(name: str) -> None:
    """Credentials accept ``str | Secret`` (what robots write: ``%{ROBAWS_PASSWORD}``); the library's
    CredentialGuard keeps a plain string out of the TRACE log (tests/acceptance checks the outputs)."""
    library = LibraryDocumentation(name)
    sensitive = ("password", "secret", "api_key", "access_token", "token", "id_token")
    offenders = []
    for keyword in [*library.keywords, *library.inits]:
        for argument in keyword.args:
            if argument.name == "vault_secret":  # the name of a Vault secret, not a secret
                continue
            if argument.name in sensitive or argument.name.endswith(("_password", "_secret", "_api_key")):
                types = {str(t) for t in (argument.type.nested or [argument.type])} if argument.type else set()
                if "Secret" not in types or "str" not in types:
                    offenders.append(f"{keyword.name}: {argument.name} is {argument.type}")
    assert not offenders, "\n".join(offenders)


ACCESS_TAGS = {"connection", "read", "write"}
# The fixed vocabulary: the vendor, one kind of access (or "webhooks" alone for a signature check that
# calls no API), and what the keyword is about.
VOCABULARY = ACCESS_TAGS | {
    "webhooks",
    "rate-limit",
    "clients",
    "suppliers",
    "supply-orders",
    "purchase-invoices",
    "sales-invoices",
    "documents",
    "spaces",
    "memberships",
    "invoices",
    "bookings",
    "resources",
    "check-ins",
    "time-passes",
    "identity",
    "users",
    "workspace",
    "processes",
    "runs",
    "work-items",
    "artifacts",
    "assets",
    "workers",
    "records",
    "aggregation",
    "events",
    "contacts",
    "teams",
    "api",
}


@pytest.mark.parametrize("name", LIBRARIES)
def test_tags_and_argument_names_follow_one_vocabulary(name: str) -> None:
    """Every keyword is tagged with its vendor and one kind of access; ids are ``<noun>_id``, never ``id``."""
    library = LibraryDocumentation(name)
    vendor = name.split(".")[-1].lower()
    problems = []
    for keyword in library.keywords:
        tags = set(keyword.tags)
        access_ok = len(tags & ACCESS_TAGS) == 1 or tags == {vendor, "webhooks"}
        if vendor not in tags or not access_ok or not tags <= VOCABULARY | {vendor}:
            problems.append(f"{keyword.name}: tags {sorted(tags)}")
        problems += [f"{keyword.name}: argument 'id'" for argument in keyword.args if argument.name == "id"]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", LIBRARIES)
def test_import_arguments_and_the_connect_keyword_are_the_profile_settings(name: str) -> None:
    library = LibraryDocumentation(name)
    module = importlib.import_module(name)
    profile = getattr(module, name.split(".")[-1]).client_class.profile
    connect = next(k for k in library.keywords if k.name == profile.connect_keyword)
    assert [a.name for a in library.inits[0].args] == list(profile.setting_names)
    assert sorted(a.name for a in connect.args) == sorted(profile.setting_names)
