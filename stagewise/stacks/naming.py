"""Names every stack, resource and export of a stage is given, in one place.

Data flow: Project + StageConfig (+ a service) → the strings CloudFormation sees:
stack `<stage>-<app>-<service>`, resource `<stage>-<app>-<thing>`, export
`<stage>-<app>-<service>-<Name>`, artifacts bucket `stagewise-<account>-<region>-artifacts`.
The graph reads export names back with `split_export()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from stagewise.config import Project, StageConfig
from stagewise.errors import UserError

EXPORT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")


def stack_name(project: Project, stage: StageConfig | str, service: str) -> str:
    """`<stage>-<app>-<service>`, e.g. `dev-notes-notes-api`."""
    stage_name = stage if isinstance(stage, str) else stage.name
    return f"{stage_name}-{project.app.name}-{service}"


def resource_name(project: Project, stage: StageConfig, thing: str) -> str:
    """`<stage>-<app>-<thing>` for a named resource."""
    return f"{stage.name}-{project.app.name}-{thing}"


def export_name(*, project: Project, stage: str, service: str, key: str) -> str:
    """`<stage>-<app>-<service>-<Key>`; Key is alphanumeric so the name splits back unambiguously."""
    if not EXPORT_KEY.match(key):
        raise UserError(f"export name '{key}' must be letters and digits, starting with a letter (e.g. TableName)")
    return f"{stack_name(project, stage, service)}-{key}"


def refuse_taken(project: Project, templates: Mapping[str, object], service: str, *, holds: str) -> None:
    """A generated stack's service key must be free: no service of the app and no other stack has it."""
    if service in templates or service in project.services:
        raise UserError(f"service '{service}' collides with the stack that holds {holds}; rename the service")


def split_export(name: str) -> tuple[str, str]:
    """`dev-notes-infra-TableName` → (`dev-notes-infra`, `TableName`): the exporting stack and the key."""
    stack, _, key = name.rpartition("-")
    return stack, key


def artifacts_bucket(account_id: str, region: str) -> str:
    """The bucket `stagewise bootstrap` creates in an account for build artifacts."""
    return f"stagewise-{account_id}-{region}-artifacts"
