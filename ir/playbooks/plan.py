"""Trace -> Plan: the steps that end a traced lineage, as an editable JSON file (contract §6).

Every registered connector plans the credentials it owns; the plan numbers
the steps and keeps them in the order the connectors gave (keys before the
sessions they mint). A responder may edit the file before running it: each
step is validated again when the plan is read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ir.errors import UsageError
from ir.playbooks.connectors import CONNECTORS, connector
from ir.playbooks.connectors.base import PlanChoices, Step

if TYPE_CHECKING:
    from ir.trace import Trace


@dataclass(frozen=True)
class Plan:
    """`{"root", "created", "steps"}`; `root` and `created` name the plan in the journal."""

    root: str
    created: str
    steps: tuple[Step, ...]

    @property
    def name(self) -> str:
        """How the journal names this plan: its root and creation time."""
        return f"{self.root}@{self.created}"

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "created": self.created,
            "steps": [step.to_json() for step in self.steps],
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "plan") -> Plan:
        """A plan as read from a (possibly hand-edited) file; what is wrong is a UsageError."""
        if not isinstance(data, dict):
            raise UsageError(f"{where}: a plan is a JSON object with root, created and steps")
        for name in ("root", "created"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise UsageError(f"{where}: `{name}` must be a non-empty string")
        if not isinstance(data.get("steps"), list):
            raise UsageError(f"{where}: `steps` must be a list")
        steps = tuple(
            Step.from_json(step, f"{where} step {n}") for n, step in enumerate(data["steps"], 1)
        )
        seen: set[str] = set()
        for step in steps:
            if step.id in seen:
                raise UsageError(f"{where}: step id {step.id} appears twice; ids must be unique")
            seen.add(step.id)
        return cls(root=data["root"], created=data["created"], steps=steps)


def make_plan(trace: Trace, choices: PlanChoices | None = None) -> Plan:
    """The plan for a trace: every connector's steps, numbered `NN-provider-action`."""
    chosen = choices or PlanChoices()
    steps = [step for provider in CONNECTORS for step in connector(provider).plan(trace, chosen)]
    numbered = tuple(
        replace(step, id=f"{n:02d}-{step.provider}-{step.action}")
        for n, step in enumerate(steps, 1)
    )
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Plan(root=trace.root, created=created, steps=numbered)


def save(plan: Plan, path: Path) -> None:
    path.write_bytes(orjson.dumps(plan.to_json(), option=orjson.OPT_INDENT_2) + b"\n")


def load(path: Path) -> Plan:
    """Read a plan file; a missing or malformed file is a UsageError naming it."""
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as error:
        raise UsageError(f"{path}: cannot read the plan ({error.strerror})") from None
    except orjson.JSONDecodeError as error:
        raise UsageError(f"{path}: not a JSON plan ({error})") from None
    return Plan.from_json(data, str(path))
