"""Guarding a stage's removal: a stage with `protect = true` (prod) goes only with --force and its
name typed back. The removal itself is `Runner.remove` (reverse export order, retained resources
listed)."""

from __future__ import annotations

from collections.abc import Callable

from stagewise.config import StageConfig
from stagewise.errors import UserError


def guard_protected(stage: StageConfig, *, force: bool, ask_name: Callable[[], str]) -> None:
    if not stage.protect:
        return
    if not force:
        raise UserError(f"stage '{stage.name}' is protected (protect = true in stagewise.toml); to remove it anyway "
                        f"run: stagewise remove {stage.name} --force, and type the stage name when asked")
    typed = ask_name().strip()
    if typed != stage.name:
        raise UserError(f"you typed '{typed}', not '{stage.name}'; nothing was removed")
