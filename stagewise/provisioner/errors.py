"""The errors the provisioner raises; each is a UserError whose message says what to fix.

TemplateError: the template (or its parameters) is invalid; raised before any resource is touched.
ExportError:   an export rule CloudFormation enforces was broken (duplicate, in use, missing).
DeployError:   a resource operation failed; the message names the resource and the reason, and
               says what the rollback did.
"""

from __future__ import annotations

from stagewise.errors import UserError


class ProvisionerError(UserError):
    """Base of every provisioner error."""


class TemplateError(ProvisionerError):
    """The template is invalid; nothing was touched."""


class ExportError(ProvisionerError):
    """A cross-stack export rule was broken."""


class DeployError(ProvisionerError):
    """A resource operation failed during deploy or delete."""

    def __init__(self, message: str, *, logical_id: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.logical_id = logical_id
        self.reason = reason
