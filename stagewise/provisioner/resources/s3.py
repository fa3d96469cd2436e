"""AWS::S3::Bucket (Ref = bucket name; attrs Arn, DomainName, RegionalDomainName, WebsiteURL, DualStackDomainName).

A bucket without BucketName gets a generated lowercase `<stack>-<logicalid>-<random>` name
(≤ 63 characters). Deleting a bucket that still holds objects fails, as in CloudFormation.
"""

from __future__ import annotations

from typing import Any

from stagewise.provisioner.resources.base import Provisioned, ResourceType, register, tags_list
from stagewise.provisioner.state import ResourceState


@register
class Bucket(ResourceType):
    type_name = "AWS::S3::Bucket"
    properties = frozenset(
        {
            "BucketName",
            "CorsConfiguration",
            "VersioningConfiguration",
            "Tags",
            "PublicAccessBlockConfiguration",
        }
    )
    replace_on = frozenset({"BucketName"})
    attributes = frozenset({"Arn", "DomainName", "RegionalDomainName", "WebsiteURL", "DualStackDomainName"})
    name_property = "BucketName"

    def create(self, props: dict[str, Any]) -> Provisioned:
        s3 = self.ctx.client("s3")
        name = props.get("BucketName") or self.ctx.generated_name(max_length=63, lowercase=True)
        extra = (
            {}
            if self.ctx.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": self.ctx.region}}
        )
        s3.create_bucket(Bucket=name, **extra)
        self._configure(name, {}, props)
        return self._provisioned(name)

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        self._configure(current.physical_id, current.properties, props)
        return self._provisioned(current.physical_id)

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("s3").delete_bucket(Bucket=current.physical_id)

    def _configure(self, name: str, old: dict[str, Any], props: dict[str, Any]) -> None:
        s3 = self.ctx.client("s3")
        if old.get("CorsConfiguration") != props.get("CorsConfiguration"):
            if "CorsConfiguration" in props:
                s3.put_bucket_cors(Bucket=name, CORSConfiguration=_cors(props["CorsConfiguration"]))
            else:
                s3.delete_bucket_cors(Bucket=name)
        if old.get("VersioningConfiguration") != props.get("VersioningConfiguration"):
            status = props.get("VersioningConfiguration", {}).get("Status", "Suspended")
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
        if old.get("Tags") != props.get("Tags"):
            if props.get("Tags"):
                s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags_list(props)})
            else:
                s3.delete_bucket_tagging(Bucket=name)
        if old.get("PublicAccessBlockConfiguration") != props.get("PublicAccessBlockConfiguration"):
            if "PublicAccessBlockConfiguration" in props:
                s3.put_public_access_block(
                    Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
                )
            else:
                s3.delete_public_access_block(Bucket=name)

    def _provisioned(self, name: str) -> Provisioned:
        region = self.ctx.region
        return Provisioned(
            physical_id=name,
            attributes={
                "Arn": f"arn:{self.ctx.partition}:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
                "DualStackDomainName": f"{name}.s3.dualstack.{region}.amazonaws.com",
                "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com",
            },
        )


def _cors(config: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's CorsRules (AllowedOrigins, MaxAge, Id) → the S3 API's CORSRules."""
    rules = []
    for rule in config.get("CorsRules", []):
        api_rule = {
            "AllowedMethods": rule["AllowedMethods"],
            "AllowedOrigins": rule["AllowedOrigins"],
        }
        for cfn, api in (
            ("AllowedHeaders", "AllowedHeaders"),
            ("ExposedHeaders", "ExposeHeaders"),
            ("MaxAge", "MaxAgeSeconds"),
            ("Id", "ID"),
        ):
            if cfn in rule:
                api_rule[api] = int(rule[cfn]) if cfn == "MaxAge" else rule[cfn]
        rules.append(api_rule)
    return {"CORSRules": rules}
