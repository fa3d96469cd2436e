"""AWS::Lambda::LayerVersion through moto's Lambda API: a function's third-party dependencies.

Data flow: the build uploads `artifacts/deps-<hash>.zip` to the account's artifacts bucket
before anything is deployed → a stack's LayerVersion names that object in `Content` →
`create` publishes a layer version from it (moto reads the object from its own S3, so the
object must exist) → `Ref` is the version's ARN, which each function lists in `Layers`.

A layer version is immutable, as in CloudFormation: any property change publishes a new
version (replacement) and the old one is deleted afterwards. Lambda refuses a missing zip; moto
would publish an empty layer, so `create` checks the object first. `LayerName` is shared by all
versions, so it is not a custom name that would block a replacement.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from stagewise.provisioner.errors import ProvisionerError
from stagewise.provisioner.resources.base import Provisioned, ResourceType, optional, register
from stagewise.provisioner.state import ResourceState

_OPTIONAL = {
    "Description": "Description",
    "CompatibleRuntimes": "CompatibleRuntimes",
    "CompatibleArchitectures": "CompatibleArchitectures",
    "LicenseInfo": "LicenseInfo",
}


@register
class LayerVersion(ResourceType):
    type_name = "AWS::Lambda::LayerVersion"
    properties = frozenset({*_OPTIONAL, "LayerName", "Content"})
    required = frozenset({"Content"})
    attributes = frozenset({"LayerVersionArn"})
    update_in_place = False  # every property of a layer version requires a new version

    def create(self, props: dict[str, Any]) -> Provisioned:
        name = props.get("LayerName") or self.ctx.generated_name(max_length=64)
        content = {k: props["Content"][k] for k in ("S3Bucket", "S3Key", "S3ObjectVersion") if k in props["Content"]}
        self._require_object(content)
        result = self.ctx.client("lambda").publish_layer_version(
            LayerName=name, Content=content, **optional(props, _OPTIONAL)
        )
        arn = result["LayerVersionArn"]
        return Provisioned(physical_id=arn, attributes={"LayerVersionArn": arn})

    def _require_object(self, content: dict[str, Any]) -> None:
        """Lambda fails when the zip is not in S3; moto would publish an empty layer, so check first."""
        try:
            self.ctx.client("s3").head_object(Bucket=content["S3Bucket"], Key=content["S3Key"])
        except ClientError as exc:
            raise ProvisionerError(
                f"Error occurred while GetObject. S3 Error Code: NoSuchKey. s3://{content['S3Bucket']}/"
                f"{content['S3Key']} does not exist; upload the layer zip first (stagewise deploy does)"
            ) from exc

    def delete(self, current: ResourceState) -> None:
        # arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>
        *_, name, version = current.physical_id.split(":")
        self.ctx.client("lambda").delete_layer_version(LayerName=name, VersionNumber=int(version))
