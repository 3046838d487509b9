"""tools/user_project.py scaffolds the user's robot from docs/getting-started.md as the page shows it, with only
conda.yaml's package line pointed at the built wheel (and its Python at this one)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import user_project  # noqa: E402


def test_the_robot_is_the_getting_started_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = tmp_path / "dist" / "robotframework_connectors-0.1.0-py3-none-any.whl"
    user_project.scaffold(tmp_path / "my-robot", wheel)
    guide = (ROOT / "docs" / "getting-started.md").read_text()
    for name in ("robot.yaml", "tasks.robot"):
        assert (tmp_path / "my-robot" / name).read_text() in guide
    conda = yaml.safe_load((tmp_path / "my-robot" / "conda.yaml").read_text())
    pip = next(entry["pip"] for entry in conda["dependencies"] if isinstance(entry, dict))
    assert pip == [str(wheel)]
    assert f"python={sys.version_info.major}.{sys.version_info.minor}" in conda["dependencies"]
    robot = yaml.safe_load((tmp_path / "my-robot" / "robot.yaml").read_text())
    assert user_project.TASK in robot["tasks"]
    assert "conda.yaml, robot.yaml, tasks.robot" in capsys.readouterr().out


def test_a_guide_without_the_files_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    guide = tmp_path / "getting-started.md"
    guide.write_text("# Nothing here\n")
    monkeypatch.setattr(user_project, "GUIDE", guide)
    monkeypatch.setattr(user_project, "ROOT", tmp_path)
    with pytest.raises(SystemExit, match=r"lacks the titled blocks \['conda.yaml', 'robot.yaml', 'tasks.robot'\]"):
        user_project.scaffold(tmp_path / "robot", tmp_path / "x.whl")


def test_the_summary_line_it_expects_is_the_one_the_page_promises() -> None:
    guide = (ROOT / "docs" / "getting-started.md").read_text()
    promised = guide.split("`Summary: ", 1)[1].split("`", 1)[0]
    assert user_project.SUMMARY.match(promised)
