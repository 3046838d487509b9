"""The credential guard of the Robot Framework libraries, run by Robot Framework itself at TRACE: plain-string
credentials by name, by position, misspelled, next to an argument that fails conversion, in a library
import and as an id token never reach output.xml or the console. No server is needed: nothing connects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from Connectors.library import HIDDEN, misspelled

SECRET = "plain-guard-Pw-7f3a9c"
SUITE = """
*** Settings ***
Library    Connectors.Robaws    pasword=%{GUARD_SECRET}
Library    Connectors.Cobot    url=http://127.0.0.1:9
Library    Connectors.Robostack    url=http://127.0.0.1:9

*** Test Cases ***
By Name
    Connect To Robaws    http://127.0.0.1:9    username=u    password=%{GUARD_SECRET}

By Position
    Connect To Robostack    app    %{GUARD_SECRET}    %{GUARD_SECRET}    http://127.0.0.1:9

Another Argument Fails Conversion
    Run Keyword And Expect Error    *burst*
    ...    Connect To Robaws    url=http://127.0.0.1:9    username=u    password=%{GUARD_SECRET}    burst=many

Misspelled Names
    Run Keyword And Expect Error    *has no argument 'pasword'*
    ...    Connect To Robaws    pasword=%{GUARD_SECRET}    username=u
    Run Keyword And Expect Error    *unexpected named argument 'api_secrt'*
    ...    Connect To Robostack    app    key    chunk_size=x    api_secrt=%{GUARD_SECRET}
    Run Keyword And Expect Error    *has no argument 'api_secrt'*
    ...    Connect To Robostack    api_secrt=%{GUARD_SECRET}    api_key=k

Misspelled Import Argument
    Run Keyword And Expect Error    *The import of Connectors.Robaws has no argument 'pasword'*
    ...    Connect To Robaws    username=u

Id Token
    Connect To Cobot    access_token=token-guard-0001    client_id=app
    Run Keyword And Expect Error    *    Get Cobot Identity    %{GUARD_SECRET}

Webhook Secret
    Run Keyword And Expect Error    *    Verify Robaws Webhook Signature    {}    t=1,v1=00    %{GUARD_SECRET}

Trace Still On For Other Keywords
    Log    after the guarded keywords    level=TRACE
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("guard")
    suite = folder / "guard.robot"
    suite.write_text(SUITE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROBAWS_", "COBOT_", "ROBOSTACK_", "CONNECTORS_"))}
    env["GUARD_SECRET"] = SECRET
    done = subprocess.run(
        [sys.executable, "-m", "robot", "--loglevel", "TRACE", "--outputdir", str(folder), str(suite)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = (folder / "output.xml").read_text(encoding="utf-8")
    assert done.returncode == 0, done.stdout[-3000:]
    return output, done.stdout + done.stderr


def test_no_plain_credential_reaches_the_outputs(run: tuple[str, str]) -> None:
    output, console = run
    assert SECRET not in output
    assert SECRET not in console
    assert 'level="TRACE">after the guarded keywords' in output  # the level came back


def test_misspelled_names_are_near_misses_only() -> None:
    names = ["url", "username", "password", "secret", "tolerance"]
    assert misspelled("pasword=%{PW}", names, literal=False) == "pasword"
    assert misspelled("secrte=${s}", names, literal=False) == "secrte"
    assert misspelled("password=%{PW}", names, literal=False) is None  # a real named argument
    assert misspelled("pasword=literal", names, literal=False) is None  # in the source anyway
    assert misspelled("t=${ts},v1=${sig}", names, literal=False) is None  # a signature header
    assert misspelled("pasword=literal", names) == "pasword"
    assert HIDDEN.startswith("<hidden")


def test_guard_source_has_no_vendor_names() -> None:
    source = Path(misspelled.__code__.co_filename).read_text(encoding="utf-8")
    assert "Robaws" not in source.split("class CredentialGuard", 1)[1].split("def refuse_misnamed", 1)[0]
