"""tools/check_secrets.py: a secret is found in every form it travels in, and never printed."""

from __future__ import annotations

import base64
import binascii
import html
import json
import subprocess
import sys
import urllib.parse
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import check_secrets  # noqa: E402

SECRET = 'S3cr/t+k éy"<&>?~9'  # its base64 differs from its URL-safe base64; escaping changes it in every form
USER = "api@demo.test"
PAIR = f"{USER}:{SECRET}".encode()
FORMS = {
    "as is": f"password={SECRET}",
    "as base64": f"token {base64.b64encode(SECRET.encode()).decode()} end",
    "as URL-safe base64": f"state={base64.urlsafe_b64encode(SECRET.encode()).decode()}&x=1",
    "percent-encoded": f"GET /x?key={urllib.parse.quote(SECRET, safe='')} HTTP/1.1",
    "percent-encoded (form)": f"key={urllib.parse.quote_plus(SECRET, safe='')}",
    "JSON-escaped": json.dumps({"key": SECRET}),
    "HTML-escaped": f"<td>{html.escape(SECRET)}</td>",
    "as hex": f"bytes {binascii.hexlify(SECRET.encode()).decode().upper()}",
    "as a Basic user:password pair in base64": f"Authorization: Basic {base64.b64encode(PAIR).decode()}",
    "inside base64 (byte offset 1)": "blob " + base64.b64encode(b"\x00\x01\x02k" + SECRET.encode() + b"!").decode(),
}


def _folder(tmp_path: Path, with_secrets: bool) -> Path:
    folder = tmp_path / "run"
    (folder / "nested").mkdir(parents=True)
    for n, (form, text) in enumerate(FORMS.items()):
        clean = text.replace(SECRET, "redacted") if not with_secrets else text
        body = clean if with_secrets else f"line {n}: nothing to see, {form} of ********"
        (folder / "nested" / f"form-{n:02}.txt").write_text(f"before\n{body}\nafter\n", encoding="utf-8")
    # Files that exist to hold credentials are not searched.
    (folder / "env.json").write_text(json.dumps({"KEY": SECRET}))
    (folder / "vault.json").write_text(json.dumps({"robaws": {"password": SECRET}}))
    (folder / "tokens.json").write_text(json.dumps({"token": SECRET}))
    return folder


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_secrets.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_form_is_reported_and_the_secret_never_printed(tmp_path: Path) -> None:
    folder = _folder(tmp_path, with_secrets=True)
    secrets_file = tmp_path / "secrets.txt"
    secrets_file.write_text(f"{USER}:{SECRET}\n")  # a Basic pair given as a secret of its own
    result = _run(str(folder), "--secret", SECRET, "--secrets-file", str(secrets_file))
    assert result.returncode == 1, result.stdout
    for n, form in enumerate(FORMS):
        line = next((x for x in result.stdout.splitlines() if f"form-{n:02}.txt:" in x), "")
        assert f"found {form}" in result.stdout and line, (form, result.stdout)
    for credentials in ("env.json", "vault.json", "tokens.json"):
        assert credentials not in result.stdout
    printed = result.stdout + result.stderr
    for form in (SECRET, base64.b64encode(SECRET.encode()).decode(), urllib.parse.quote(SECRET, safe="")):
        assert form not in printed


def test_the_same_folder_without_the_secrets_passes(tmp_path: Path) -> None:
    folder = _folder(tmp_path, with_secrets=False)
    result = _run(str(folder), "--secret", SECRET, "--secret", f"{USER}:{SECRET}")
    assert result.returncode == 0, result.stdout
    assert "0 found" in result.stdout


def test_robot_framework_compressed_log_texts_are_searched(tmp_path: Path) -> None:
    """log.html keeps long texts zlib-compressed and base64-encoded: the secret is in none of the file's bytes."""
    text = "a long message " * 20 + SECRET
    packed = base64.b64encode(zlib.compress(text.encode())).decode()
    page = f'<script>window.output["strings"] = window.output["strings"].concat(["*short", "{packed}"]);</script>'
    (tmp_path / "log.html").write_text(page)
    assert SECRET not in page
    leaks = check_secrets.find_leaks(check_secrets.label([SECRET]), [tmp_path / "log.html"])
    assert [leak.form for leak in leaks] == ["as is (in its compressed texts)"]


def test_a_real_robot_log_is_decoded(tmp_path: Path) -> None:
    secret = "robot-log-secret-3f9a"
    (tmp_path / "s.robot").write_text(
        f"*** Test Cases ***\nLong\n    Log    {'padding text ' * 30}{secret}\n", encoding="utf-8"
    )
    subprocess.run(
        [sys.executable, "-m", "robot", "--outputdir", str(tmp_path / "out"), "--report", "NONE",
         str(tmp_path / "s.robot")],
        capture_output=True,
        check=True,
        timeout=120,
    )  # fmt: skip
    log = tmp_path / "out" / "log.html"
    assert secret.encode() not in log.read_bytes()  # compressed: a plain search would miss it
    leaks = check_secrets.find_leaks(check_secrets.label([secret]), [log])
    assert [leak.form for leak in leaks] == ["as is (in its compressed texts)"]


def test_basic_pairs_from_a_sandbox_environment() -> None:
    environment = {
        "X_USERNAME": "u",
        "X_PASSWORD": "p4ss",
        "X_LIMITED_USERNAME": "l",
        "X_LIMITED_PASSWORD": "lpass",
        "X_CLIENT_ID": "c",
        "X_CLIENT_SECRET": "cs",
        "Y_API_KEY": "k",
        "Y_API_SECRET": "ks",
        "Y_URL": "http://x",
    }
    assert sorted(check_secrets.basic_pairs(environment)) == [("c", "cs"), ("k", "ks"), ("l", "lpass"), ("u", "p4ss")]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("a demonstration, demos, ademo, demo2", False),  # words that merely contain it
        ("password=demo;", True),
        ("Authorization: Basic " + base64.b64encode(b"user:demo").decode(), True),
        ("ZGVtbw==", True),  # base64("demo")
        ("xZGVtbw", False),  # inside a longer base64 value: too few determined characters to tell
        ("64656d6f", True),
        ("a64656d6f0", False),
    ],
)
def test_a_short_secret_counts_as_a_whole_token_only(tmp_path: Path, text: str, found: bool) -> None:
    (tmp_path / "console.txt").write_text(text)
    secret = check_secrets.label(["demo"])
    leaks = check_secrets.find_leaks(secret, [tmp_path / "console.txt"], [("user", secret[0])])
    assert bool(leaks) is found, [str(leak) for leak in leaks]


def test_secrets_under_four_characters_are_named_as_not_searched(tmp_path: Path) -> None:
    (tmp_path / "out.txt").write_text("abc")
    result = _run(str(tmp_path), "--secret", "abc")
    assert result.returncode == 0 and "not searched (under 4 characters" in result.stdout and "abc" not in result.stdout
