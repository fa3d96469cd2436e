"""Shipping figures on the local provider: full, no-op and one-service deploys; artifact sizes.

The timings come from `stagewise.pipeline.bench.measure` (a temp copy of the app, its own local
cloud on a free port); a deploy's time is its build plus its ship, as `stagewise deploy` runs them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run() -> dict[str, float]:
    from stagewise.pipeline.bench import measure

    figures = measure(REPO)
    result: dict[str, float] = {
        "deploy_full_s": figures.full.total_s,
        "deploy_noop_s": figures.no_op.total_s,
        "deploy_noop_writes": figures.no_op.writes,
        "deploy_one_service_s": figures.one_change.total_s,
        "deploy_one_service_first_s": figures.first_change.total_s,
        "build_warm_s": figures.no_op.build_s,
    }
    result.update(artifact_sizes())
    return result


def artifact_sizes() -> dict[str, float]:
    """Each service's own code zip (KB) and its dependency layer (MB), zipped."""
    from stagewise.build import build_all
    from stagewise.config import load_project

    project = load_project(REPO / "stagewise.toml")
    sizes: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as out:
        services = [name for name, service in project.services.items() if not service.infra]
        for name, built in build_all(project, Path(out), services=services).items():
            if built.code is not None:
                sizes[f"code_zip_kb[{name}]"] = round(built.code.size / 1024, 1)
            if built.layer is not None:
                sizes[f"deps_layer_mb[{name}]"] = round(built.layer.size / 2**20, 2)
    return sizes
