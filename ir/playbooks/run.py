"""Run a plan: dry run, execute (resuming), verify. Returns data; the CLI prints it.

A dry run calls nothing and lists the exact API calls of every step. `execute`
checks every step and every provider setting before the first call, skips the
steps the journal shows finished by an earlier run of the same plan, journals
each step's outcome, and stops at the first failure unless that step says
`on_error: continue`. Throttling and other transient errors are retried with
backoff where the call is made, in the provider clients (`ir.providers`): a
step fails only once they have given up. `verify` asks
each provider whether each step's effect holds. No case lock is held while a
provider is called: every journal entry is its own short write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from ir import render
from ir.playbooks import journal
from ir.playbooks.connectors import connector
from ir.playbooks.connectors.base import (
    FAILED,
    NOT_VERIFIED,
    SKIPPED,
    WOULD_CALL,
    Call,
    Connector,
    ProviderError,
    Secrets,
    Step,
    StepResult,
)
from ir.playbooks.plan import Plan

NOT_RUN = "not_run"  # a step after a failure that stopped the run
CALL_COLUMNS = ["step", "status", "call", "when"]


@dataclass(frozen=True)
class Outcome:
    """One step of a run: what happened (or would), with the calls of a dry run."""

    step: Step
    result: StepResult
    calls: tuple[Call, ...] = ()

    @property
    def failed(self) -> bool:
        return self.result.status in (FAILED, NOT_VERIFIED)

    def to_json(self) -> dict[str, object]:
        return {
            "step": self.step.id,
            "provider": self.step.provider,
            "action": self.step.action,
            "target": self.step.target,
            "status": self.result.status,
            "http_status": self.result.http_status,
            "detail": self.result.detail,
            "calls": [call.to_json() for call in self.calls],
        }


def dry_run(plan: Plan, finished: Mapping[str, pd.Timestamp] | None = None) -> list[Outcome]:
    """Every step's exact calls, nothing called; steps an earlier run `finished` (the
    journal's `finished`) say so instead."""
    connectors = _connectors(plan)
    done = finished or {}
    outcomes = []
    for step in plan.steps:
        if step.id in done:
            outcomes.append(Outcome(step, _skipped(done[step.id])))
        else:
            calls = tuple(connectors[step.provider].calls(step))
            outcomes.append(Outcome(step, StepResult(WOULD_CALL), calls))
    return outcomes


def calls_frame(outcomes: list[Outcome]) -> pd.DataFrame:
    """A dry run as rows: one per call (a skipped step: one row without a call)."""
    rows = [
        {
            "step": outcome.step.id,
            "status": outcome.result.status,
            "call": call.summary() if call else "",
            "when": call.when if call else "",
        }
        for outcome in outcomes
        for call in (outcome.calls or (None,))
    ]
    return pd.DataFrame(rows, columns=CALL_COLUMNS)


def execute(plan: Plan, case: Path, secrets: Secrets | None = None) -> list[Outcome]:
    """Run the plan's unfinished steps, journaling each, until done or a stopping failure."""
    connectors = _connectors(plan)
    for step in plan.steps:  # a bad step or a missing setting stops us before any call
        connectors[step.provider].calls(step)
    for provider in dict.fromkeys(step.provider for step in plan.steps):
        connectors[provider].check_settings()
    given = secrets if secrets is not None else Secrets()
    done = journal.finished(case, plan)
    outcomes: list[Outcome] = []
    stopped = False
    for step in plan.steps:
        if stopped:
            outcomes.append(Outcome(step, StepResult(NOT_RUN, "an earlier step failed")))
            continue
        conn = connectors[step.provider]
        if step.id in done:
            result = _skipped(done[step.id])
        else:
            result = _attempt(partial(conn.execute, step, given), conn, step)
        journal.record(case, plan, step, result)
        outcomes.append(Outcome(step, result))
        stopped = result.status == FAILED and step.on_error == "stop"
    return outcomes


def verify(plan: Plan, case: Path, secrets: Secrets | None = None) -> list[Outcome]:
    """Ask the providers whether every step's effect holds; each answer is journaled."""
    connectors = _connectors(plan)
    for provider in dict.fromkeys(step.provider for step in plan.steps):
        connectors[provider].check_settings()
    given = secrets if secrets is not None else Secrets()
    outcomes = []
    for step in plan.steps:
        conn = connectors[step.provider]
        result = _attempt(partial(conn.verify, step, given), conn, step)
        journal.record(case, plan, step, result)
        outcomes.append(Outcome(step, result))
    return outcomes


def verify_journal(
    case: Path, root: str | None = None, secrets: Secrets | None = None
) -> list[Outcome]:
    """`verify` every step the journal shows finished, plan by plan (of one root, or all)."""
    outcomes = []
    for plan_root, created, steps in journal.finished_steps(case, root):
        plan = Plan.from_json(
            {"root": plan_root, "created": created, "steps": steps}, f"journal of {case}"
        )
        outcomes += verify(plan, case, secrets)
    return outcomes


def _connectors(plan: Plan) -> dict[str, Connector]:
    return {provider: connector(provider) for provider in {s.provider for s in plan.steps}}


def _skipped(when: object) -> StepResult:
    return StepResult(SKIPPED, f"finished by an earlier run at {render.iso(when)}")


def _attempt(call: Callable[[], StepResult], conn: Connector, step: Step) -> StepResult:
    """`call`; what the provider refused (after its own retries) becomes FAILED with its error."""
    try:
        return call()
    except ProviderError as error:
        planned = "; ".join(c.summary() for c in conn.calls(step))
        return StepResult(FAILED, str(error), error.status, planned)
