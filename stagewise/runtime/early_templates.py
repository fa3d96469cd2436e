"""Worker templates started from a stage's rendered templates, before its stacks are deployed.

Why: a template preloads its layers' modules for ~0.3 s. Started once the deployed model is known,
it is still importing when `stagewise dev` serves its first request, which then pays a plain
process's whole import (~0.45 s of the ~1.3 s from start to first answer). Started from the
rendered templates, it imports while the cloud boots and the stacks are checked.

The environments are provisional (`provisional_functions`): a variable the template renders as a
literal has that value; one CloudFormation resolves at deploy (Ref, GetAtt, ImportValue, Sub) gets a
value of its own per function, so it counts as varying and no module whose import reads it is
preloaded. `WorkerSet` forks from such a template only if the deployed functions' environments fit
it (`Template.fits`); otherwise it starts one from them, as it always did.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from stagewise.provisioner.state import ResourceState
from stagewise.runtime.model import FunctionSpec, function_spec
from stagewise.runtime.reload import watched_roots
from stagewise.runtime.template import Template
from stagewise.runtime.workers import start_template, worker_environment


def provisional_functions(rendered: dict[str, dict[str, Any]], *, repo_root: Path, region: str,
                          account_id: str) -> dict[str, FunctionSpec]:
    """The functions of the rendered templates ({service: template}), keyed `<service>/<logical id>`,
    read as the deployed ones are (`function_spec`) with what is known before the deploy."""
    functions = {}
    for service, template in rendered.items():
        for logical_id, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") != "AWS::Lambda::Function" or not (resource.get("Metadata") or {}).get("stagewise"):
                continue
            key = f"{service}/{logical_id}"
            functions[key] = function_spec(service, _provisional_state(key, resource, region, account_id), repo_root)
    return functions


def _provisional_state(key: str, resource: dict[str, Any], region: str, account_id: str) -> ResourceState:
    """The resource as if deployed: a value CloudFormation would resolve becomes one of this function's own."""
    props = resource.get("Properties") or {}
    variables = (props.get("Environment") or {}).get("Variables") or {}
    literal = {k: v if isinstance(v, str | int | float | bool) else f"unresolved:{key}" for k, v in variables.items()}
    name = props.get("FunctionName")
    return ResourceState(logical_id=key, type="AWS::Lambda::Function",
                         physical_id=name if isinstance(name, str) else f"unresolved:{key}",
                         properties={**props, "Environment": {"Variables": literal}},
                         attributes={"Arn": f"arn:aws:lambda:{region}:{account_id}:function:{key.split('/')[1]}"},
                         metadata=resource.get("Metadata") or {})


def start_templates(functions: dict[str, FunctionSpec], *, repo_root: Path, base_env: dict[str, str], region: str,
                    log: Callable[[str], None]) -> dict[str, Template]:
    """One template per runtime of `functions`, started in the background (as `WorkerSet` starts them)."""
    envs = {key: worker_environment(spec, base=base_env, region=region) for key, spec in functions.items()}
    roots = watched_roots((spec.source_dir for spec in functions.values()), repo_root)
    return {runtime: start_template(runtime, functions, envs, roots=roots, log=log)
            for runtime in sorted({spec.runtime for spec in functions.values()})}
