"""The export registry and CloudFormation's export rules, derived from the stored stack states.

Rules (worded as CloudFormation words them):
- an export name exists once in an account and region;
- an export another stack imports cannot be removed or changed;
- a stack whose exports are imported cannot be deleted;
- Fn::ImportValue of a name nobody exports fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stagewise.provisioner.errors import ExportError
from stagewise.provisioner.state import StackState


@dataclass(frozen=True)
class ExportRegistry:
    owners: dict[str, str]  # export name -> stack that exports it
    values: dict[str, str]  # export name -> value
    importers: dict[str, list[str]]  # export name -> stacks that import it

    @classmethod
    def from_states(cls, states: Iterable[StackState], *, excluding: str | None = None) -> ExportRegistry:
        owners: dict[str, str] = {}
        values: dict[str, str] = {}
        importers: dict[str, list[str]] = {}
        for state in states:
            if state.name == excluding:
                continue
            for name, value in state.exports.items():
                owners[name], values[name] = state.name, value
            for name in state.imports:
                importers.setdefault(name, []).append(state.name)
        return cls(owners=owners, values=values, importers=importers)

    def value(self, name: str) -> str:
        if name not in self.values:
            raise ExportError(
                f"No export named {name} found. Deploy the stack that exports it first "
                f"(exports live: {', '.join(sorted(self.values)) or 'none'})"
            )
        return self.values[name]

    def check_new_exports(self, stack_name: str, exports: dict[str, str]) -> None:
        for name in sorted(exports):
            owner = self.owners.get(name)
            if owner is not None and owner != stack_name:
                raise ExportError(f"Export with name {name} is already exported by stack {owner}")

    def check_changes(self, stack_name: str, old: dict[str, str], new: dict[str, str]) -> None:
        """Refuse removing or changing an export another stack imports."""
        for name in sorted(old):
            users = [s for s in self.importers.get(name, []) if s != stack_name]
            if not users:
                continue
            if name not in new:
                raise ExportError(f"Export {name} cannot be deleted as it is in use by {', '.join(users)}")
            if new[name] != old[name]:
                raise ExportError(f"Export {name} cannot be updated as it is in use by {', '.join(users)}")

    def check_delete(self, state: StackState) -> None:
        self.check_changes(state.name, state.exports, {})
