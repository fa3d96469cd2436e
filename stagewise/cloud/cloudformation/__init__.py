"""CloudFormation's API in the local cloud, served by the stagewise provisioner (service.py says how).

    app = CloudFormationApp(endpoint, checkpoints=...)   # in the cloud's server process
    app.serve(environ, body)                                # -> (status, headers, body)
"""

from __future__ import annotations

from stagewise.cloud.cloudformation.app import CloudFormationApp
from stagewise.cloud.cloudformation.protocol import is_cloudformation

__all__ = ["CloudFormationApp", "is_cloudformation"]
