"""`stagewise synth --stage S [--out DIR]`: write the stage's CloudFormation templates as plain JSON.

Data flow: stagewise.toml → StageConfig (with --set overrides) → `render_stage` (imports every
stack module) → `deploy_phases` (checks the imports resolve and orders the stacks) →
`<DIR>/<stack-name>.template.json`, one line printed per stack in deploy order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stagewise.options import SetOption


def synth(
    stage: Annotated[str, typer.Option("--stage", "-s", help="Stage name (e.g. dev, prod, pr-42).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for the templates [default: .stagewise/synth/<stage>].")
    ] = None,
    set_: SetOption = None,
) -> None:
    """Render every stack of a stage to CloudFormation JSON, in deploy order.

    Example:  stagewise synth --stage pr-42 --out build/templates
    """
    from stagewise.options import load_stage
    from stagewise.stacks.files import default_synth_dir, write_templates
    from stagewise.stacks.graph import deploy_phases
    from stagewise.stacks.render import render_stage

    project, config = load_stage(stage, set_)
    templates = render_stage(project, config)
    phases = deploy_phases(templates)
    folder = out or default_synth_dir(project, config)
    written = write_templates(project, config, templates, folder)
    for number, phase in enumerate(phases, start=1):
        for service in phase:
            resources = len(templates[service].get("Resources", {}))
            print(f"phase {number}  {written[service].name.removesuffix('.template.json'):<40} "
                  f"{resources:>3} resources  {_shown(written[service])}")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
