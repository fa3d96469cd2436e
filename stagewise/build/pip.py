"""Running pip to install wheels for the Lambda runtime's platform, not this machine's.

Data flow: `deps.build_layer` builds a `PipRequest` (target folder, requirements file, Python
version, architecture) → `PipRequest.args()` is the pip command line (`--platform … --python-version
… --implementation cp --only-binary=:all:`) → a `PipRunner` runs it. `run_pip` is the real
runner (a subprocess of this interpreter's pip); tests pass a fake with the same signature.
"""

from __future__ import annotations

import enum
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stagewise.errors import UserError

# Lambda's python3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34); pip does not expand
# manylinux_2_X tags by itself, so every accepted tag is listed (preferred first).
MANYLINUX_TAGS = ("manylinux2014", "manylinux_2_17", "manylinux_2_28", "manylinux_2_34")

PipRunner = Callable[[Sequence[str]], None]


class Arch(enum.StrEnum):
    """A Lambda function's `Architectures` value, mapped to the wheel platform suffix."""

    X86_64 = "x86_64"
    ARM64 = "arm64"

    @property
    def wheel_suffix(self) -> str:
        return "aarch64" if self is Arch.ARM64 else "x86_64"

    def platforms(self) -> list[str]:
        return [f"{tag}_{self.wheel_suffix}" for tag in MANYLINUX_TAGS]


@dataclass(frozen=True)
class PipRequest:
    target: Path
    requirements: Path
    python_version: str
    arch: Arch

    def args(self) -> list[str]:
        platform_args = [arg for p in self.arch.platforms() for arg in ("--platform", p)]
        return [
            "install",
            "--target", str(self.target),
            *platform_args,
            "--python-version", self.python_version,
            "--implementation", "cp",
            "--only-binary=:all:",
            "--no-compile",
            "--no-input",
            "--disable-pip-version-check",
            "--quiet",
            "-r", str(self.requirements),
        ]  # fmt: skip


def run_pip(args: Sequence[str]) -> None:
    """Run this interpreter's pip; a failure becomes a UserError carrying pip's own last words."""
    proc = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise UserError(
            "pip could not install the requirements for the Lambda platform "
            f"(exit {proc.returncode}):\n{tail}\n"
            "Check that every requirement is pinned and has a manylinux wheel for this Python version."
        )
