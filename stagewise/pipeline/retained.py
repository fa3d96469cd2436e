"""Resources a removal leaves behind (DeletionPolicy Retain) and the command that deletes each.

Data flow: the live templates (which resources are retained) + the provider's physical ids
(read before the stacks go) → `Retained` entries → printed by `stagewise remove`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stagewise.providers.base import Provider

HOW = {
    "AWS::DynamoDB::Table": "aws dynamodb delete-table --table-name {id}",
    "AWS::S3::Bucket": "aws s3 rb s3://{id} --force",
    "AWS::Logs::LogGroup": "aws logs delete-log-group --log-group-name {id}",
    "AWS::SNS::Topic": "aws sns delete-topic --topic-arn {id}",
    "AWS::SQS::Queue": "aws sqs delete-queue --queue-url {id}",
    "AWS::Cognito::UserPool": "aws cognito-idp delete-user-pool --user-pool-id {id}",
}


@dataclass(frozen=True)
class Retained:
    stack: str
    logical_id: str
    resource_type: str
    physical_id: str

    def how_to_delete(self, endpoint: str | None = None) -> str:
        template = HOW.get(self.resource_type, "delete {type} {id} by hand (console or CLI)")
        command = template.format(id=self.physical_id or f"<{self.logical_id}>", type=self.resource_type)
        return f"{command} --endpoint-url {endpoint}" if endpoint and command.startswith("aws ") else command


def retained_resources(provider: Provider, templates: Mapping[str, Mapping[str, Any]]) -> list[Retained]:
    found = []
    for stack, template in sorted(templates.items()):
        keep = {lid: res for lid, res in (template.get("Resources") or {}).items()
                if res.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")}
        if not keep:
            continue
        ids = provider.physical_ids(stack)
        found += [Retained(stack, lid, res.get("Type", "?"), ids.get(lid, "")) for lid, res in sorted(keep.items())]
    return found
