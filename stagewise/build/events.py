"""Progress of a build, as events a caller can show (the CLI draws rows; tests collect them).

Data flow: the builder calls `progress(BuildEvent(...))` before and after each long step
(pip above all); nothing in the build prints.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class BuildStep(enum.StrEnum):
    CODE_BUILT = "code-built"
    DEPS_CACHED = "deps-cached"  # the layer came from the cache: no pip call
    DEPS_INSTALLING = "deps-installing"  # pip is running (seconds to a minute)
    DEPS_BUILT = "deps-built"
    NO_DEPS = "no-deps"


@dataclass(frozen=True)
class BuildEvent:
    service: str
    step: BuildStep
    message: str


Progress = Callable[[BuildEvent], None]


def ignore(event: BuildEvent) -> None:
    """The default progress callback: show nothing."""
