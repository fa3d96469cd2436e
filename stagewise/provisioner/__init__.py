"""The local provisioner: deploys plain CloudFormation JSON templates into the local cloud (moto).

    from stagewise.provisioner import Provisioner
    prov = Provisioner(session.client, account_id="111111111111", region="us-east-1")
    prov.plan("dev-notes-infra", template)     # StackPlan: ADD / MODIFY / REPLACE / REMOVE / UNCHANGED
    prov.deploy("dev-notes-infra", template)   # StackState (resolved resources, outputs, exports)

See docs/provisioner.md for what it supports and refuses.
"""

from __future__ import annotations

from stagewise.provisioner.engine import Provisioner
from stagewise.provisioner.errors import DeployError, ExportError, ProvisionerError, TemplateError
from stagewise.provisioner.events import ResourceEvent, ResourceStatus
from stagewise.provisioner.plan import Action, ResourceChange, StackPlan
from stagewise.provisioner.state import ResourceState, StackState, StackStatus

__all__ = [
    "Action",
    "DeployError",
    "ExportError",
    "Provisioner",
    "ProvisionerError",
    "ResourceChange",
    "ResourceEvent",
    "ResourceState",
    "ResourceStatus",
    "StackPlan",
    "StackState",
    "StackStatus",
    "TemplateError",
]
