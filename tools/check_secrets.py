"""Finds secrets in what a run leaves behind, in every form a secret travels in: as is, base64 (standard and
URL-safe, padded or not, alone or inside a longer encoded value such as a Basic ``user:password`` header),
percent-encoded (URLs, form bodies), JSON-escaped, HTML-escaped (log.html, report.html) and hex.

    python tools/check_secrets.py FOLDER [--secret VALUE]... [--secrets-file FILE] [--sandbox URL]

Every file under FOLDER is searched (console output, output.xml, the sandbox and receiver logs, anything a run
wrote), except files whose purpose is to hold credentials, named in ``CREDENTIAL_FILES``. Robot Framework's
log.html and report.html keep their long texts zlib-compressed and base64-encoded: those are decoded and searched
too. ``--secrets-file`` reads one secret a line (so secrets need not sit on a command line); a secret with a colon is
a Basic credential, ``user:password``; ``--sandbox`` asks a
running sandbox for every secret it minted or accepts, and pairs its Basic credentials (``X_USERNAME`` with
``X_PASSWORD``, ``X_CLIENT_ID`` with ``X_CLIENT_SECRET``, ``X_API_KEY`` with ``X_API_SECRET``).

Exits 1 naming each file, form and secret (by its number and length, never its value), 0 when nothing is found.

Short secrets (the rule against false positives). Secrets of 4 characters and more are searched; shorter ones
are listed as not searched. A secret of fewer than 8 characters ("demo", "test1") is also a plausible word or
fragment of one, so it counts only as a whole token: not touching a letter or digit on either side (in its
encoded forms, not touching a character of that encoding's alphabet), and its base64 is looked for only where
it starts an encoded value (``base64(secret)``, ``base64(user:secret)``), not at the two other byte alignments
inside longer values, whose few determined characters would match random base64 text. From 8 characters on every
occurrence counts, at every alignment.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import html
import json
import os
import re
import sys
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIN_LENGTH = 4
WHOLE_TOKEN_BELOW = 8
# Files that exist to hold credentials: a secret inside them is their purpose, not a leak.
CREDENTIAL_FILES = ("env.json", "env-*.json", "vault.json", "*vault*.json", "*tokens.json", "*tokens.json.*")
# Which identity goes with which secret in a Basic credential (user:password, client_id:client_secret, ...).
BASIC_PAIRS = (("USERNAME", "PASSWORD"), ("CLIENT_ID", "CLIENT_SECRET"), ("API_KEY", "API_SECRET"))
# log.html / report.html: `window.output["strings"] = window.output["strings"].concat([...]);`
_ROBOT_STRINGS = re.compile(r'window\.output\["strings"\]\s*=\s*window\.output\["strings"\]\.concat\((\[.*?\])\);')
_JS_HEX = re.compile(r"(?<!\\)\\x([0-9a-fA-F]{2})")
_B64 = "A-Za-z0-9+/"
_B64_URL = "A-Za-z0-9_-"


@dataclass(frozen=True)
class Secret:
    value: str
    label: str  # how the report names it: "secret 3 (12 characters)", never the value

    @property
    def searched(self) -> bool:
        return len(self.value) >= MIN_LENGTH


@dataclass(frozen=True)
class Form:
    name: str
    text: str  # the bytes of the encoded secret, as latin-1 text (so binary files are searched byte for byte)
    alphabet: str  # the characters that may not touch a short secret's occurrence ("" for long secrets)
    ignore_case: bool = False


@dataclass(frozen=True)
class Leak:
    file: Path
    form: str
    secret: str  # the label

    def __str__(self) -> str:
        return f"{self.file}: {self.secret} found {self.form}"


def _latin(data: bytes) -> str:
    return data.decode("latin-1")


def _base64_runs(data: bytes, offset: int, alphabet: bytes | None) -> str:
    """The base64 characters wholly determined by ``data`` when it starts ``offset`` bytes into an encoded value
    (what survives whatever bytes surround it)."""
    encoded = base64.b64encode(b"\0" * offset + data + b"\0\0", altchars=alphabet)
    first = -(-offset * 8 // 6)  # ceil
    last = (offset + len(data)) * 8 // 6
    return _latin(encoded[first:last])


def forms(secret: str) -> list[Form]:
    """Every form of ``secret`` searched for, each distinct from the plain one."""
    raw = secret.encode("utf-8")
    short = len(secret) < WHOLE_TOKEN_BELOW
    word = "A-Za-z0-9" if short else ""
    found: dict[str, Form] = {}

    def add(name: str, text: str, alphabet: str, ignore_case: bool = False) -> None:
        if text and text not in {form.text for form in found.values()}:
            found[name] = Form(name, text, alphabet if short else "", ignore_case)

    add("as is", _latin(raw), word)
    for name, altchars, alphabet in (("base64", None, _B64), ("URL-safe base64", b"-_", _B64_URL)):
        whole = _latin(base64.b64encode(raw, altchars=altchars))
        add(f"as {name}", whole, alphabet)  # padded: `=` ends it
        add(f"as {name} (unpadded)", whole.rstrip("="), alphabet)
        for offset in () if short else (0, 1, 2):
            add(f"inside {name} (byte offset {offset})", _base64_runs(raw, offset, altchars), "")
    add("percent-encoded", urllib.parse.quote(secret, safe=""), word, ignore_case=True)
    add("percent-encoded (form)", urllib.parse.quote_plus(secret, safe=""), word, ignore_case=True)
    add("JSON-escaped", _latin(json.dumps(secret)[1:-1].encode()), word)
    add("JSON-escaped (slashes)", _latin(json.dumps(secret)[1:-1].replace("/", "\\/").encode()), word)
    add("HTML-escaped", _latin(html.escape(secret).encode()), word)
    add("as hex", raw.hex(), "0-9a-fA-F" if short else "", ignore_case=True)
    return list(found.values())


def basic_forms(user: str, secret: str) -> list[Form]:
    """A Basic credential: ``user:secret`` as an Authorization header carries it, and in a URL's userinfo."""
    pair = f"{user}:{secret}".encode()
    found = []
    for name, altchars, alphabet in (("base64", None, _B64), ("URL-safe base64", b"-_", _B64_URL)):
        whole = _latin(base64.b64encode(pair, altchars=altchars))
        found.append(Form(f"as a Basic user:password pair in {name}", whole.rstrip("="), alphabet))
    found.append(Form("as a user:password pair", _latin(pair), ""))
    return found


def _pattern(form: Form) -> re.Pattern[str]:
    body = re.escape(form.text)
    if form.alphabet:
        body = f"(?<![{form.alphabet}]){body}(?![{form.alphabet}])"
    return re.compile(body, re.IGNORECASE if form.ignore_case else 0)


def robot_texts(text: str) -> Iterator[str]:
    """The strings of a Robot Framework log.html or report.html: ``*``-prefixed ones are as is, the others
    zlib-compressed and base64-encoded."""
    for match in _ROBOT_STRINGS.finditer(text):
        try:  # a JavaScript array: JSON but for the \xNN escapes Robot Framework writes for `<`
            strings = json.loads(_JS_HEX.sub(r"\\u00\1", match.group(1)))
        except ValueError:
            continue
        for item in strings:
            if not isinstance(item, str):
                continue
            if item.startswith("*"):
                yield item[1:]
                continue
            try:
                yield zlib.decompress(base64.b64decode(item)).decode("utf-8", errors="replace")
            except (ValueError, zlib.error):
                continue


def is_credential_file(path: Path) -> bool:
    return any(fnmatch.fnmatchcase(path.name, pattern) for pattern in CREDENTIAL_FILES)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not is_credential_file(p))


def _texts(path: Path) -> list[tuple[str, str]]:
    """(where, text) pairs to search in one file: its bytes, and for Robot Framework HTML its decoded strings."""
    data = path.read_bytes()
    texts = [("", _latin(data))]
    if path.suffix.lower() in (".html", ".htm") and b'window.output["strings"]' in data:
        decoded = "\n".join(robot_texts(data.decode("utf-8", errors="replace")))
        texts.append((" (in its compressed texts)", _latin(decoded.encode("utf-8"))))
    return texts


def find_leaks(
    secrets: Iterable[Secret], files: Iterable[Path], pairs: Iterable[tuple[str, Secret]] = ()
) -> list[Leak]:
    """Every (file, form, secret) found; the report names the secret by its label only."""
    searches = [
        (secret, _pattern(form), form.name) for secret in secrets if secret.searched for form in forms(secret.value)
    ]
    searches += [
        (secret, _pattern(form), form.name) for user, secret in pairs for form in basic_forms(user, secret.value)
    ]
    leaks: list[Leak] = []
    for path in files:
        if not path.is_file():
            continue
        for where, text in _texts(path):
            found: dict[str, list[str]] = {}
            for secret, pattern, name in searches:
                if pattern.search(text):
                    found.setdefault(secret.label, []).append(name)
            for secret_label, names in found.items():
                leaks += [Leak(path, name + where, secret_label) for name in _most_specific(names)]
    return leaks


def _most_specific(names: list[str]) -> list[str]:
    """One occurrence matches several forms of one encoding (padded base64 contains the unpadded one, which
    contains the offset-0 run): report the most specific form of each encoding found."""
    kept = []
    for name in names:
        encoding = name.split(" (")[0].removeprefix("as ").removeprefix("inside ")
        covered = [f"as {encoding}", f"as {encoding} (unpadded)"] if name.startswith("inside ") else []
        covered += [f"as {encoding}"] if name.endswith("(unpadded)") else []
        if not any(other in names for other in covered):
            kept.append(name)
    return kept


def label(values: Iterable[str]) -> list[Secret]:
    """Secrets numbered in a stable order (sorted), so a report's "secret 3" means the same in every run."""
    return [Secret(value, f"secret {n} ({len(value)} characters)") for n, value in enumerate(sorted(set(values)), 1)]


def basic_pairs(environment: dict[str, str]) -> list[tuple[str, str]]:
    """(identity, secret) of every Basic credential in a ``*_URL``-style settings mapping."""
    found = []
    for name, user in environment.items():
        for identity, secret in BASIC_PAIRS:
            if name.endswith("_" + identity) or name == identity:
                partner = name[: len(name) - len(identity)] + secret
                if environment.get(partner):
                    found.append((user, environment[partner]))
    return found


def from_sandbox(url: str) -> tuple[set[str], list[tuple[str, str]]]:
    """A running sandbox's minted and accepted secrets, and its Basic credentials."""
    token = os.environ.get("CONNECTORS_SANDBOX_ADMIN_TOKEN")

    def get(path: str) -> Any:
        request = urllib.request.Request(url.rstrip("/") + path)  # noqa: S310 - the sandbox the caller names
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    minted = {str(value) for value in get("/_sandbox/secrets") or []}
    environment: dict[str, str] = {}
    vendors = (get("/_sandbox/config") or {}).get("vendors", {})
    for facts in vendors.values():
        environment.update({k: str(v) for k, v in (facts.get("env") or {}).items()})
    return minted, basic_pairs(environment)


def check(
    folder: Path, values: Iterable[str], pairs: Iterable[tuple[str, str]] = (), say: Callable[[str], None] = print
) -> int:
    """Search ``folder``; print one line per leak and a summary; 1 when anything leaked. A value with a colon
    is a Basic credential (``user:password``; RFC 7617 forbids a colon in the user): its password is a secret,
    and the pair is searched in its Basic forms."""
    pairs = list(pairs)
    values = list(values)
    pairs += [(value.partition(":")[0], value.partition(":")[2]) for value in values if ":" in value]
    values = [value for value in values if ":" not in value]
    secrets = label([*values, *(secret for _, secret in pairs)])
    by_value = {secret.value: secret for secret in secrets}
    files = files_under(folder) if folder.is_dir() else [folder]
    leaks = find_leaks(secrets, files, [(user, by_value[secret]) for user, secret in pairs])
    unsearched = [secret.label for secret in secrets if not secret.searched]
    say(
        f"Secret check: {len(secrets) - len(unsearched)} secret(s) and {len(pairs)} Basic pair(s) searched in "
        f"every form in {len(files)} files under {folder}: {len(leaks)} found."
    )
    if unsearched:
        say(f"  not searched (under {MIN_LENGTH} characters, too short to tell from text): {', '.join(unsearched)}")
    for leak in leaks:
        say(f"  LEAK {leak}")
    return 1 if leaks else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--secret", action="append", default=[], metavar="VALUE", help="a secret (repeatable)")
    parser.add_argument("--secrets-file", type=Path, action="append", default=[], help="one secret a line")
    parser.add_argument("--sandbox", metavar="URL", help="a running sandbox: its minted secrets and Basic pairs")
    args = parser.parse_args(argv)
    if not args.folder.exists():
        print(f"check_secrets: {args.folder} does not exist; give the folder a run wrote.")
        return 2
    values = list(args.secret)
    for file in args.secrets_file:
        try:
            values += [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        except OSError as error:
            print(f"check_secrets: cannot read the secrets file {file} ({error.strerror}).")
            return 2
    pairs: list[tuple[str, str]] = []
    if args.sandbox:
        try:
            minted, pairs = from_sandbox(args.sandbox)
        except (OSError, ValueError) as error:
            print(f"check_secrets: the sandbox at {args.sandbox} did not give its secrets ({error}).")
            return 2
        values += minted
    if not values and not pairs:
        print("check_secrets: no secrets to search for; give --secret, --secrets-file or --sandbox.")
        return 2
    return check(args.folder, values, pairs)


if __name__ == "__main__":
    sys.exit(main())
