"""The vendor specs in tests/spec/ are byte-identical copies of the shared ones (``../shared/specs/`` beside the
checkout), so an edit on either side cannot drift unnoticed.

Where the shared folder is looked for: ``CONNECTORS_SHARED_SPECS`` when set; else ``shared/specs`` beside this
checkout (CI clones the project into a folder with ``shared/`` beside it), or beside the main checkout of a git
worktree. When none is there, the test fails under ``CI`` (a check that cannot run must not pass: CI is set up
with the folder, so its absence is a broken setup) and skips elsewhere with the reason, which the skip guard lists.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import skip_guard

ROOT = Path(__file__).resolve().parents[2]
COPIES = ["controlroom-openapi-v1.json", "cobot-api2-openapi.yml"]


def shared_specs() -> Path | None:
    if os.environ.get("CONNECTORS_SHARED_SPECS"):
        return Path(os.environ["CONNECTORS_SHARED_SPECS"])
    candidates = [ROOT.parent / "shared" / "specs"]
    try:
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:  # no git: a copy of the tree, not a checkout
        common = ""
    if common:  # a git worktree: the main checkout's folder has shared/ beside it
        candidates.append(Path(common).parent.parent / "shared" / "specs")
    return next((folder for folder in candidates if folder.is_dir()), None)


@pytest.mark.parametrize("name", COPIES)
def test_the_spec_copy_is_byte_identical_to_the_shared_one(name: str) -> None:
    folder = shared_specs()
    if folder is None:
        message = (
            "../shared/specs is not beside this checkout (nor CONNECTORS_SHARED_SPECS set): "
            "the spec copies cannot be compared"
        )
        if skip_guard.in_ci():
            pytest.fail(message + "; CI clones the project with shared/ beside it")
        pytest.skip(message)
    shared = folder / name
    assert shared.is_file(), f"{shared} is missing: the copy tests/spec/{name} has no original to match"
    copy = (ROOT / "tests" / "spec" / name).read_bytes()
    original = shared.read_bytes()
    assert hashlib.sha256(copy).hexdigest() == hashlib.sha256(original).hexdigest(), (
        f"tests/spec/{name} differs from {shared}: copy the shared spec over it (cp {shared} tests/spec/) and "
        "regenerate the operation tables (python tools/make_operations.py)"
    )


def test_without_the_shared_folder_ci_fails_and_elsewhere_it_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "shared_specs", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI clones the project with shared/ beside it"):
        test_the_spec_copy_is_byte_identical_to_the_shared_one(COPIES[0])
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="cannot be compared"):
        test_the_spec_copy_is_byte_identical_to_the_shared_one(COPIES[0])


def test_a_named_shared_folder_without_the_spec_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONNECTORS_SHARED_SPECS", str(tmp_path))
    with pytest.raises(AssertionError, match="is missing"):
        test_the_spec_copy_is_byte_identical_to_the_shared_one(COPIES[0])


def test_a_drifted_copy_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / COPIES[1]).write_bytes((ROOT / "tests" / "spec" / COPIES[1]).read_bytes() + b"\n")
    monkeypatch.setenv("CONNECTORS_SHARED_SPECS", str(tmp_path))
    with pytest.raises(AssertionError, match="differs from"):
        test_the_spec_copy_is_byte_identical_to_the_shared_one(COPIES[1])
