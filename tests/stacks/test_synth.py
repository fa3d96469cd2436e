"""`stagewise synth`: template files per stack, one line per stack, a clear error for a broken module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from stagewise.cli import app
from tests.stacks.conftest import REPO, write_project


def test_synth_writes_one_template_per_stack_in_deploy_order(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("STAGEWISE_PROJECT", str(REPO))
    out = tmp_path / "out"
    (out).mkdir()
    (out / "dev-notes-gone.template.json").write_text("{}")  # a stack no longer rendered
    (out / "keep.txt").write_text("mine")

    result = CliRunner().invoke(app, ["synth", "--stage", "dev", "--out", str(out), "--set", "memory=1024"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("phase 1  dev-notes-infra ") and lines[1].startswith("phase 2  dev-notes-notes-api ")
    files = sorted(p.name for p in out.iterdir())
    assert "dev-notes-gone.template.json" not in files and "keep.txt" in files
    api = json.loads((out / "dev-notes-notes-api.template.json").read_text())
    assert api["Resources"]["CreateNote"]["Properties"]["MemorySize"] == 1024


def test_synth_defaults_to_the_projects_synth_folder(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"svc": "from troposphere import Template\ndef build(ctx):\n    return Template()\n"})
    env = {**os.environ, "STAGEWISE_PROJECT": str(project.root)}
    done = subprocess.run([sys.executable, "-m", "stagewise.cli", "synth", "-s", "pr-5"], env=env,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".stagewise/synth/pr-5/pr-5-demo-svc.template.json").is_file()
    assert done.stdout.split()[:2] == ["phase", "1"]


def test_synth_of_a_broken_stack_exits_2_with_the_file_and_problem(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"svc": "def build(ctx):\n    raise ValueError('bad table')\n"})
    env = {**os.environ, "STAGEWISE_PROJECT": str(project.root)}
    done = subprocess.run([sys.executable, "-m", "stagewise.cli", "synth", "--stage", "dev"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "svc/stack.py" in done.stderr and "ValueError: bad table" in done.stderr
    assert "Traceback" not in done.stderr
