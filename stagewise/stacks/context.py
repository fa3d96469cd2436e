"""What a stack module gets: the stage it is rendered for, and helpers that keep names and references right.

Data flow: `render_stage` builds one `StackContext` per service and calls the stack
module's `build(ctx)`; the module asks the context for names (`name`), cross-stack
outputs (`export`) and references (`import_value`), and functions (`function`), so every
name carries the stage and every import names the stack that exports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from awacs.aws import Statement
from troposphere import Export, ImportValue, Output, Template, awslambda, iam

from stagewise.config import Project, Service, StageConfig
from stagewise.errors import UserError
from stagewise.stacks import naming
from stagewise.stacks.functions import (
    LOG_RETENTION_DAYS,
    PROTECTED_LOG_RETENTION_DAYS,
    FunctionSettings,
    add_function,
    add_function_role,
    kebab,
    log_group_name,
)

__all__ = ["ArtifactRef", "StackContext", "stack_name"]

stack_name = naming.stack_name  # `<stage>-<app>-<service>`, also importable from here

ArtifactRef = Mapping[str, str | None]  # {"bucket", "key"} and optionally "layer_key" (stagewise.build.artifact_map)
UNBUILT_PREFIX = "unbuilt"


@dataclass(frozen=True)
class StackContext:
    project: Project
    stage: StageConfig
    service: Service
    artifacts: Mapping[str, ArtifactRef] | None = None  # function logical id -> built code

    @property
    def app(self) -> str:
        return self.project.app.name

    @property
    def region(self) -> str:
        return self.stage.region

    @property
    def account_id(self) -> str:
        return self.project.account(self.stage.account).id

    @property
    def stack_name(self) -> str:
        return naming.stack_name(self.project, self.stage, self.service.name)

    @property
    def source(self) -> str:
        """The service folder relative to the repository root (`services/notes-api`)."""
        try:
            return self.service.path.relative_to(self.project.root).as_posix()
        except ValueError as exc:
            raise UserError(f"service {self.service.name} lives outside the project at {self.service.path}") from exc

    def name(self, thing: str) -> str:
        """`<stage>-<app>-<thing>`: the name of any named resource."""
        return naming.resource_name(self.project, self.stage, thing)

    def export(self, template: Template, name: str, value: Any, *, description: str | None = None) -> Output:
        """An Output `name` exported as `<stage>-<app>-<service>-<name>`."""
        export = naming.export_name(project=self.project, stage=self.stage.name, service=self.service.name, key=name)
        props: dict[str, Any] = {"Value": value, "Export": Export(export)}
        if description:
            props["Description"] = description
        return template.add_output(Output(name, **props))

    def import_value(self, service: str, name: str) -> ImportValue:
        """`Fn::ImportValue` of another stack's export; infra services are read from `stage.infra_stage`."""
        owner = self.project.service(service)
        stage = self.stage.infra_stage if owner.infra else self.stage.name
        return ImportValue(naming.export_name(project=self.project, stage=stage, service=service, key=name))

    def function_name(self, logical_id: str, name: str | None = None) -> str:
        """`<stage>-<app>-<service>-<name or kebab(logical id)>`."""
        return self.name(f"{self.service.name}-{name or kebab(logical_id)}")

    def function(
        self,
        template: Template,
        logical_id: str,
        *,
        handler: str,
        role: iam.Role | Any = None,
        statements: Sequence[Statement] = (),
        environment: Mapping[str, Any] | None = None,
        timeout: int | None = None,
        memory: int | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> awslambda.Function:
        """An `AWS::Lambda::Function` (+ log group, + its own role from `statements` unless `role` is given)."""
        settings = FunctionSettings(
            function_name=self.function_name(logical_id, name),
            service=self.service.name,
            source=self.source,
            runtime=self.project.app.runtime,
            memory=memory or self.stage.memory,
            timeout=timeout or self.stage.timeout,
            log_retention_days=PROTECTED_LOG_RETENTION_DAYS if self.stage.protect else LOG_RETENTION_DAYS,
            code=self.code(logical_id),
            layer_name=self.name(f"{self.service.name}-deps"),
            environment=self.default_environment(),
        )
        return add_function(
            template,
            logical_id,
            settings=settings,
            handler=handler,
            role=role,
            statements=statements,
            environment=environment,
            description=description,
        )

    def function_role(
        self, template: Template, logical_id: str, *, statements: Sequence[Statement] = (), name: str | None = None
    ) -> iam.Role:
        """The role `function()` would make, for a stack that wants to add to it before creating the function."""
        group = log_group_name(self.function_name(logical_id, name))
        return add_function_role(template, logical_id, log_group_name=group, statements=statements)

    def default_environment(self) -> dict[str, str]:
        """What every function gets: STAGE, LOG_LEVEL and the Powertools service / metrics namespace."""
        return {
            "STAGE": self.stage.name,
            "LOG_LEVEL": self.stage.log_level,
            "POWERTOOLS_SERVICE_NAME": self.service.name,
            "POWERTOOLS_METRICS_NAMESPACE": self.app,
        }

    def vars_environment(self, *names: str) -> dict[str, str]:
        """Stage variables a function should see, as environment variables: `admin_phone` → `ADMIN_PHONE`.

        A variable the stage does not set is refused, naming where to set it.
        """
        missing = [name for name in names if name not in self.stage.vars]
        if missing:
            table = "[ephemeral.vars]" if self.stage.ephemeral else f"[stages.{self.stage.name}.vars]"
            raise UserError(
                f"service {self.service.name} needs the stage variable(s) {', '.join(missing)} and stage "
                f"'{self.stage.name}' has none; set {missing[0]} = \"...\" under [defaults.vars] or {table} "
                "in stagewise.toml"
            )
        return {name.upper(): _env_text(self.stage.vars[name]) for name in names}

    def code(self, logical_id: str) -> ArtifactRef:
        """The built artifact of a function, or the placeholder a later build replaces."""
        if self.artifacts is not None and logical_id in self.artifacts:
            ref = self.artifacts[logical_id]
            if not {"bucket", "key"} <= set(ref):
                raise UserError(f"artifact of {self.service.name}/{logical_id} needs 'bucket' and 'key', got {sorted(ref)}")
            return {"bucket": ref["bucket"], "key": ref["key"], "layer_key": ref.get("layer_key")}
        return {
            "bucket": naming.artifacts_bucket(self.account_id, self.region),
            "key": f"{UNBUILT_PREFIX}/{self.service.name}/{logical_id}.zip",
        }


def _env_text(value: object) -> str:
    """A variable as a function sees it: booleans as `true`/`false` (TOML's spelling), the rest as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
