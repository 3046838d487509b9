"""Every Robot Framework and Python example of the site (docs/*.md) and the README runs against the sandbox
(tools/run_examples.py), and the runner counts them and would notice one that fails."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import run_examples  # noqa: E402

pytestmark = pytest.mark.timeout(900)


def test_every_example_of_the_site_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    examples = [example for page in run_examples.site_pages() for example in run_examples.extract(page)]
    pages = {example.page for example in examples}
    assert {"docs/index.md", "docs/getting-started.md", "README.md"} <= pages
    code = run_examples.main(["--output", str(tmp_path)])
    out = capsys.readouterr().out
    print(out)
    assert code == 0, out
    counted = re.search(r"examples: (\d+) run \((\d+) Robot Framework, (\d+) Python\)", out)
    assert counted, out
    assert int(counted.group(1)) == len(examples) >= 15
    assert f"{len(examples)} passed, 0 failed" in out


def test_a_failing_example_is_reported_by_page_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# A page\n\n```robotframework\nGet Robaws Resource    clients    999999\n```\n\n"
        "```python\nraise SystemExit('this example is broken')\n```\n\n```text\nnot an example\n```\n"
    )
    code = run_examples.main(["--output", str(tmp_path / "out"), str(page)])
    out = capsys.readouterr().out
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert len(lines) == 2, out
    assert lines[0].startswith("FAIL ") and ":3 (robot): " in lines[0] and "999999" in lines[0]
    assert ":7 (python): this example is broken" in lines[1]  # the line of the fence
    assert "examples: 2 run (1 Robot Framework, 1 Python) from 1 pages; 0 passed, 2 failed" in out
