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

from stagewise.runtime.model import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, FunctionSpec
from stagewise.runtime.reload import watched_roots
from stagewise.runtime.template import Template
from stagewise.runtime.workers import worker_environment


def provisional_functions(rendered: dict[str, dict[str, Any]], *, repo_root: Path, region: str,
                          account_id: str) -> dict[str, FunctionSpec]:
    """The functions of the rendered templates ({service: template}), keyed `<service>/<logical id>`,
    with what is known before the deploy."""
    functions = {}
    for service, template in rendered.items():
        for logical_id, resource in (template.get("Resources") or {}).items():
            source = ((resource.get("Metadata") or {}).get("stagewise") or {}).get("source")
            if resource.get("Type") != "AWS::Lambda::Function" or not source:
                continue
            key = f"{service}/{logical_id}"
            functions[key] = _spec(key, resource.get("Properties") or {}, (repo_root / source).resolve(),
                                   arn=f"arn:aws:lambda:{region}:{account_id}:function:{logical_id}")
    return functions


def _spec(key: str, props: dict[str, Any], source_dir: Path, *, arn: str) -> FunctionSpec:
    variables = (props.get("Environment") or {}).get("Variables") or {}
    name = props.get("FunctionName")
    return FunctionSpec(
        logical_id=key, name=name if isinstance(name, str) else f"unresolved:{key}", arn=arn,
        handler=str(props.get("Handler", "")), source_dir=source_dir,
        environment={k: v if isinstance(v, str) else f"unresolved:{key}" for k, v in variables.items()},
        timeout_s=int(props.get("Timeout", DEFAULT_TIMEOUT_S)), memory_mb=int(props.get("MemorySize", DEFAULT_MEMORY_MB)),
        runtime=str(props.get("Runtime", "python3.12")),
    )


def start_templates(functions: dict[str, FunctionSpec], *, repo_root: Path, base_env: dict[str, str], region: str,
                    log: Callable[[str], None]) -> dict[str, Template]:
    """One template per runtime of `functions`, started in the background (as `WorkerSet` starts them)."""
    envs = {key: worker_environment(spec, base=base_env, region=region) for key, spec in functions.items()}
    roots = watched_roots((spec.source_dir for spec in functions.values()), repo_root)
    templates = {}
    for runtime in sorted({spec.runtime for spec in functions.values()}):
        keys = [key for key, spec in functions.items() if spec.runtime == runtime]
        templates[runtime] = Template(runtime, envs={key: envs[key] for key in keys},
                                      source_dirs=[functions[key].source_dir for key in keys], roots=roots, log=log)
        templates[runtime].start()
    return templates
