"""The local runtime: API Gateway (REST, v1 proxy events) + Lambda (warm workers) for one stage.

Public surface: `RuntimeModel.from_stacks(states, repo_root=...)` and
`Runtime(model, repo_root=..., worker_env=..., region=...)`. Imports are lazy so a
worker process (which imports `stagewise.runtime.worker_main`) loads nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stagewise.runtime.model import RuntimeModel
    from stagewise.runtime.runtime import Runtime

__all__ = ["Runtime", "RuntimeModel"]


def __getattr__(name: str) -> Any:
    if name == "Runtime":
        from stagewise.runtime.runtime import Runtime

        return Runtime
    if name == "RuntimeModel":
        from stagewise.runtime.model import RuntimeModel

        return RuntimeModel
    raise AttributeError(name)
