"""The order of a stage change from the live and new export graphs (no I/O)."""

from __future__ import annotations

import pytest

from stagewise.pipeline.order import CycleError, Op, phases


def tpl(exports=(), imports=()):
    resources = {f"R{i}": {"Type": "AWS::SSM::Parameter", "Properties": {"Value": {"Fn::ImportValue": name}}}
                 for i, name in enumerate(imports)}
    outputs = {name.rpartition("-")[2]: {"Value": "v", "Export": {"Name": name}} for name in exports}
    return {"Resources": resources, "Outputs": outputs}


INFRA = tpl(exports=["dev-a-infra-Topic"])
API = tpl(exports=["dev-a-api-Param"], imports=["dev-a-infra-Topic"])
JOB = tpl(imports=["dev-a-api-Param"])


def names(result):
    return [[(step.stack, step.op) for step in phase] for phase in result]


def test_a_first_deploy_follows_the_imports():
    result = phases({"infra": INFRA, "api": API, "job": JOB}, {})
    assert names(result) == [[("infra", Op.DEPLOY)], [("api", Op.DEPLOY)], [("job", Op.DEPLOY)]]
    assert result[2][0].needs == {"api"}


def test_a_redeploy_keeps_the_same_order():
    live = {"infra": INFRA, "api": API, "job": JOB}
    assert names(phases(live, live)) == names(phases(live, {}))


def test_removal_runs_importers_first():
    result = phases({}, {"infra": INFRA, "api": API, "job": JOB})
    assert names(result) == [[("job", Op.REMOVE)], [("api", Op.REMOVE)], [("infra", Op.REMOVE)]]


def test_a_rollback_that_drops_an_export_updates_its_importer_first():
    infra_with_extra = tpl(exports=["dev-a-infra-Topic", "dev-a-infra-Extra"])
    job_with_extra = tpl(imports=["dev-a-api-Param", "dev-a-infra-Extra"])
    live = {"infra": infra_with_extra, "api": API, "job": job_with_extra}
    result = phases({"infra": INFRA, "api": API, "job": JOB}, live)
    order = [step.stack for phase in result for step in phase]
    assert order.index("job") < order.index("infra")
    assert "job" in next(step for phase in result for step in phase if step.stack == "infra").needs


def test_a_rollback_that_removes_the_importer_removes_it_before_the_export_goes():
    infra_with_extra = tpl(exports=["dev-a-infra-Topic", "dev-a-infra-Extra"])
    extra_user = tpl(imports=["dev-a-infra-Extra"])
    result = phases({"infra": INFRA, "api": API}, {"infra": infra_with_extra, "api": API, "user": extra_user})
    flat = [(step.stack, step.op) for phase in result for step in phase]
    assert flat.index(("user", Op.REMOVE)) < flat.index(("infra", Op.DEPLOY))


def test_a_new_export_is_deployed_before_its_new_importer():
    infra_with_extra = tpl(exports=["dev-a-infra-Topic", "dev-a-infra-Extra"])
    job_with_extra = tpl(imports=["dev-a-api-Param", "dev-a-infra-Extra"])
    live = {"infra": INFRA, "api": API, "job": JOB}
    result = phases({"infra": infra_with_extra, "api": API, "job": job_with_extra}, live)
    job = next(step for phase in result for step in phase if step.stack == "job")
    assert "infra" in job.needs


def test_a_cycle_is_named():
    a = tpl(exports=["dev-a-a-X"], imports=["dev-a-b-Y"])
    b = tpl(exports=["dev-a-b-Y"], imports=["dev-a-a-X"])
    with pytest.raises(CycleError, match="a → b → a"):
        phases({"a": a, "b": b}, {})
