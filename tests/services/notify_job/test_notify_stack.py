"""notify-job's stack: the admin's phone is the stage variable `admin_phone`, passed as ADMIN_PHONE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagewise.config import load_project
from stagewise.errors import UserError
from stagewise.stacks import StackContext

REPO = Path(__file__).resolve().parents[3]


def notify_env(stage: str, overrides: dict[str, Any] | None = None) -> dict[str, str]:
    project = load_project(REPO / "stagewise.toml")
    ctx = StackContext(project=project, stage=project.stage(stage, overrides), service=project.service("notify-job"))
    module = _stack_module()
    template = module.build(ctx).to_dict()
    return template["Resources"]["Notify"]["Properties"]["Environment"]["Variables"]


def _stack_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("notify_job_stack", REPO / "services/notify-job/stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("stage", "phone"), [("dev", "+15555550100"), ("prod", "+15555550199"), ("pr-7", "+15555550100")])
def test_the_phone_comes_from_the_stage_variable(stage: str, phone: str) -> None:
    assert notify_env(stage)["ADMIN_PHONE"] == phone


def test_set_on_the_command_line_wins() -> None:
    assert notify_env("dev", {"vars.admin_phone": "+15555550123"})["ADMIN_PHONE"] == "+15555550123"


def test_a_phone_that_is_not_e164_is_refused_naming_the_fix() -> None:
    with pytest.raises(UserError, match=r"admin_phone '555-0100' is not an E.164 number.*\[stages.dev.vars\]"):
        notify_env("dev", {"vars.admin_phone": "555-0100"})
