"""A stage that lives in the local cloud: render its stacks, provision them in order, read them back.

Data flow: Project + StageConfig → `render_stage` (CloudFormation JSON per service)
→ `deploy_phases` (order from exports/imports) → the local cloud's CloudFormation API (the
same provider `deploy` uses), one stack at a time, in the stage's simulated account; a stack
whose live template and parameters are the rendered ones is skipped with reads only. The
provisioner's `StackState`s behind that API are what `dev`, `outputs`, `token` and `invoke` read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from stagewise.cloud import credentials as cloud_credentials
from stagewise.config import Project, StageConfig
from stagewise.errors import UserError
from stagewise.provisioner import Provisioner
from stagewise.provisioner.state import StackState
from stagewise.stacks.domain import zone_parameters
from stagewise.stacks.graph import deploy_phases
from stagewise.stacks.render import render_stage, stack_name
from stagewise.target import Target


@dataclass
class LocalStage:
    project: Project
    stage: StageConfig
    target: Target

    @property
    def endpoint(self) -> str:
        return self.target.endpoint or ""

    @property
    def account_id(self) -> str:
        return self.target.account_id

    @property
    def region(self) -> str:
        return self.target.region

    def client(self, service: str) -> Any:
        return self.target.client(service)

    def credentials(self) -> dict[str, str]:
        return cloud_credentials(self.endpoint, self.account_id)

    @cached_property
    def provisioner(self) -> Provisioner:
        return Provisioner(self.client, account_id=self.account_id, region=self.region,
                           checkpoints=self.target.checkpoints)

    def deploy(self, *, on_stack: Callable[[str, str], None] | None = None) -> list[StackState]:
        """Provision every stack of the stage in dependency order, the stacks of one phase together;
        unchanged stacks cost no writes."""
        from stagewise.providers.factory import provider_for

        provider = provider_for(self.target)
        templates = render_stage(self.project, self.stage)
        report = on_stack or (lambda name, status: None)

        parameters = {service: zone_parameters(template, project=self.project, stage=self.stage, target=self.target)
                      for service, template in templates.items()}  # a missing zone stops before any deploy

        def one(service: str) -> StackState:
            name = stack_name(self.project, self.stage, service)
            if provider.live_template(name) != (json.loads(json.dumps(templates[service])), parameters[service]):
                report(name, "deploying")
                result = provider.apply(provider.plan(name, templates[service], parameters[service]),
                                        lambda event: None)
                if not result.ok:
                    raise UserError(f"stack {name}: {result.status}: {result.reason}")
            state = self.provisioner.describe(name)
            if state is None:
                raise UserError(f"stack {name} is not in the local cloud after its deploy")
            report(name, str(state.status))
            return state

        states: list[StackState] = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            for phase in deploy_phases(templates):
                states += pool.map(one, phase)
        return states

    def states(self) -> list[StackState]:
        """The live stacks this stage uses: its own and, when it borrows infra, the lender's."""
        # every stack of this stage (its services' and those render_stage generates: the API's stage,
        # the alarms), and the infra stacks of the stage it borrows them from
        prefix = stack_name(self.project, self.stage, "")
        borrowed = {stack_name(self.project, self.stage.infra_stage, s.name)
                    for s in self.project.services.values() if s.infra and self.stage.infra_stage != self.stage.name}
        states = [state for state in self.provisioner.list_stacks()
                  if state.name.startswith(prefix) or state.name in borrowed]
        if not states:
            raise UserError(
                f"stage '{self.stage.name}' has no stacks in the local cloud; run `stagewise dev --stage {self.stage.name}`"
            )
        return states

    def outputs(self) -> dict[str, dict[str, str]]:
        return {state.name: dict(state.outputs) for state in self.states()}

    def output(self, key: str) -> str:
        return self.output_values(key)[0]

    def output_values(self, *keys: str) -> list[str]:
        """The values of these outputs, from one read of the stage's stacks."""
        merged: dict[str, str] = {}
        for outputs in self.outputs().values():
            merged |= outputs
        missing = [key for key in keys if key not in merged]
        if missing:
            raise UserError(f"no stack of stage '{self.stage.name}' has an output named {missing[0]}")
        return [merged[key] for key in keys]


def connect(stage: str, *, overrides: list[str] | None = None) -> LocalStage:
    """The LocalStage for `stage` against the running local cloud (an error if it is not running)."""
    from stagewise.options import load_stage
    from stagewise.target import target_for

    project, config = load_stage(stage, overrides)
    return LocalStage(project=project, stage=config, target=target_for(project, config, local=True))
