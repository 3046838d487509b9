"""Every keyword of every library reads like a manual entry: documented with an example, tagged, typed."""

from __future__ import annotations

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
def test_credentials_are_secrets(name: str) -> None:
    """Plain-string credential arguments would be written to log.html at TRACE level."""
    library = LibraryDocumentation(name)
    sensitive = ("password", "secret", "api_key", "access_token", "token")
    offenders = []
    for keyword in library.keywords:
        for argument in keyword.args:
            if argument.name == "vault_secret":  # the name of a Vault secret, not a secret
                continue
            if argument.name in sensitive or argument.name.endswith(("_password", "_secret", "_api_key")):
                types = {str(t) for t in (argument.type.nested or [argument.type])} if argument.type else set()
                if "Secret" not in " ".join(types) or "str" in types:
                    offenders.append(f"{keyword.name}: {argument.name} is {argument.type}")
    assert not offenders, "\n".join(offenders)
