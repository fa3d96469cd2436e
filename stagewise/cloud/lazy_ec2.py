"""Import moto's SSM without its EC2 (server process only).

moto's SSM imports `ec2_backends` at module level, and importing moto.ec2 costs ~0.9 s of
start-up (its models and instance-type data) — on every cloud start with SSM state to restore,
and on the first SSM call of a fresh one. SSM touches EC2 only for Run Command targets, which a
serverless app does not use. `import_ssm_without_ec2()` imports SSM against a stand-in
`moto.ec2` whose `ec2_backends` loads the real one on first use, then takes the stand-in out
of `sys.modules`, so anything else that imports moto.ec2 gets the real package.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_EC2 = "moto.ec2"


class _DeferredBackends:
    """SSM's `ec2_backends`: the first real use (Run Command) imports EC2 and forwards to it."""

    def _real(self) -> Any:
        return importlib.import_module(_EC2).ec2_backends

    def __getitem__(self, key: str) -> Any:
        return self._real()[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)


def import_ssm_without_ec2() -> None:
    if "moto.ssm.models" in sys.modules or _EC2 in sys.modules:
        return
    stand_in = types.ModuleType(_EC2)
    stand_in.ec2_backends = _DeferredBackends()  # type: ignore[attr-defined]
    sys.modules[_EC2] = stand_in
    try:
        importlib.import_module("moto.ssm.models")
    finally:
        if sys.modules.get(_EC2) is stand_in:
            del sys.modules[_EC2]
