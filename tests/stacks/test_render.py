"""Rendering a stage: stack modules loaded by path, infra skipped when borrowed, broken modules reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewise.errors import UserError
from stagewise.stacks import load_stack_module, render_stage
from tests.stacks.conftest import write_project

TOPIC = """
from troposphere import Template, sns

def build(ctx):
    template = Template()
    topic = template.add_resource(sns.Topic("Topic", TopicName=ctx.name("{name}")))
    ctx.export(template, "TopicName", topic.GetAtt("TopicName"))
    return template
"""


def test_render_gives_one_template_per_service_with_stagewise_metadata(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"base": TOPIC.format(name="base"), "svc": TOPIC.format(name="svc")},
                            infra={"base"})
    templates = render_stage(project, project.stage("dev"))

    assert set(templates) == {"base", "svc"}
    assert templates["svc"]["Resources"]["Topic"]["Properties"]["TopicName"] == "dev-demo-svc"
    assert templates["svc"]["Metadata"]["stagewise"] == {"stage": "dev", "app": "demo", "service": "svc"}
    assert templates["svc"]["AWSTemplateFormatVersion"] == "2010-09-09"


def test_a_stage_that_borrows_infra_does_not_render_it(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"base": TOPIC.format(name="base"), "svc": TOPIC.format(name="svc")},
                            infra={"base"})
    assert set(render_stage(project, project.stage("pr-3"))) == {"svc"}


def test_two_services_load_as_two_modules(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"one": "VALUE = 1\ndef build(ctx): pass\n",
                                       "two": "VALUE = 2\ndef build(ctx): pass\n"})
    modules = [load_stack_module(project.service(name)) for name in ("one", "two")]
    assert [m.VALUE for m in modules] == [1, 2] and modules[0].__name__ != modules[1].__name__


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def build(ctx):\n    return (\n", r"stack.py failed to import: SyntaxError.*line"),
        ("import not_a_module_xyz\n", r"failed to import: ModuleNotFoundError: No module named 'not_a_module_xyz'"),
        ("TEMPLATE = 1\n", r"defines no build\(ctx\) function"),
        ("def build(ctx):\n    return {}\n", r"returned dict, not a troposphere Template"),
        ("def build(ctx):\n    x = 1\n    return ctx.nope\n", r"build\(ctx\) failed for stage dev: AttributeError.*\(line 3\)"),
    ],
)
def test_a_broken_stack_module_is_a_user_error_naming_the_file(tmp_path: Path, body: str, message: str) -> None:
    project = write_project(tmp_path, {"svc": body})
    with pytest.raises(UserError, match=message) as caught:
        render_stage(project, project.stage("dev"))
    assert str(tmp_path / "svc" / "stack.py") in str(caught.value)
