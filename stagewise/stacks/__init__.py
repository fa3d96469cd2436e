"""Stacks as code: the context a stack module gets, rendering a stage to CloudFormation JSON, deploy order.

Data flow: `render_stage(project, stage)` → service → template dict → `deploy_phases(templates)`.
"""

from stagewise.stacks.context import StackContext
from stagewise.stacks.graph import StackGraphError, deploy_phases, exports_of, imports_of, removal_phases
from stagewise.stacks.naming import artifacts_bucket, stack_name
from stagewise.stacks.render import load_stack_module, render_stage

__all__ = [
    "StackContext",
    "StackGraphError",
    "artifacts_bucket",
    "deploy_phases",
    "exports_of",
    "imports_of",
    "load_stack_module",
    "removal_phases",
    "render_stage",
    "stack_name",
]
