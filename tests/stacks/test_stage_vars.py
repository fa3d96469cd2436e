"""Stage variables reach stack code as `ctx.stage.vars`, and a function's environment when a stack asks."""

from __future__ import annotations

import pytest
from troposphere import Template

from stagewise.errors import UserError
from stagewise.stacks import StackContext


def ctx_for(project, stage: str, overrides=None) -> StackContext:
    return StackContext(project=project, stage=project.stage(stage, overrides), service=project.service("notes-api"))


def test_stack_code_reads_the_stages_variables(project) -> None:
    assert ctx_for(project, "dev").stage.vars["admin_phone"] == "+15555550100"  # [defaults.vars]
    assert ctx_for(project, "prod").stage.vars["admin_phone"] == "+15555550199"  # [stages.prod.vars]
    assert ctx_for(project, "pr-12").stage.vars["admin_phone"] == "+15555550100"  # inherited


def test_a_stack_asks_for_variables_as_a_functions_environment(project) -> None:
    ctx = ctx_for(project, "dev", {"vars.feature_on": "yes"})
    assert ctx.vars_environment("admin_phone", "feature_on") == {"ADMIN_PHONE": "+15555550100", "FEATURE_ON": "yes"}
    template = Template()
    ctx.function(template, "Thing", handler="notes_api.api.handler", environment=ctx.vars_environment("admin_phone"))
    env = template.to_dict()["Resources"]["Thing"]["Properties"]["Environment"]["Variables"]
    assert env["ADMIN_PHONE"] == "+15555550100" and env["STAGE"] == "dev"


def test_booleans_and_numbers_become_text(tmp_path) -> None:
    from stagewise.config import parse_project

    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "stack.py").write_text("def build(ctx): ...\n")
    project = parse_project({
        "app": {"name": "x"}, "services": {"svc": "svc"}, "accounts": {"dev": {"id": "111111111111"}},
        "defaults": {"account": "dev", "vars": {"on": True, "limit": 3, "ratio": 0.5}},
    }, root=tmp_path, file=tmp_path / "stagewise.toml")
    ctx = StackContext(project=project, stage=project.stage("dev"), service=project.service("svc"))
    assert ctx.vars_environment("on", "limit", "ratio") == {"ON": "true", "LIMIT": "3", "RATIO": "0.5"}


def test_a_missing_variable_names_it_and_where_to_set_it(project) -> None:
    with pytest.raises(UserError) as err:
        ctx_for(project, "pr-12").vars_environment("alarm_email")
    message = str(err.value)
    assert "alarm_email" in message and "[defaults.vars]" in message and "[ephemeral.vars]" in message
    with pytest.raises(UserError, match=r"\[stages.prod.vars\]"):
        ctx_for(project, "prod").vars_environment("alarm_email")
