"""Helpers of the plain-credential suite that must not log what they handle.

Robot Framework logs every variable it sets (``${password} = …``) and every keyword's arguments at
TRACE; these helpers set and compare credentials without either, so that whatever the secret-leak check
finds in the outputs came from the connectors, not from the test.
"""

from __future__ import annotations

import os

from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn


@library(scope="GLOBAL")
class PlainCredentials:
    @keyword
    def set_plain_credential_variables(self, *names: str) -> None:
        """Set ``${NAME}`` (suite scope, plain text) from each environment variable ``NAME``, without logging."""
        variables = BuiltIn()._variables  # the public setters log the value
        for name in names:
            variables.set_suite(f"${{{name}}}", os.environ[name])

    @keyword
    def credentials_should_be_searched_for_leaks(self, *names: str) -> None:
        """Fail (naming the variable only) unless the sandbox registered each value for the leak check."""
        sandbox = BuiltIn().get_library_instance("SandboxLibrary").process
        searched = set(sandbox.admin("GET", "/_sandbox/secrets"))
        missing = [name for name in names if os.environ.get(name) not in searched]
        if missing:
            raise AssertionError(f"Not searched by the leak check: {', '.join(missing)}.")
