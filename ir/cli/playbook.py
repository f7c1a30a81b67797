"""Containing a leak: `ir playbook plan | run | status | verify` (contract §6).

`plan` traces like `ir trace` and writes the editable plan; `run` is a dry run that
prints every API call it would make, unless `--execute`; `status` shows the
journal; `verify` asks the providers whether every step holds. A failed or
unverified step makes the exit status 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from ir import render
from ir.cli.common import (
    DEFAULT_CASE,
    CasePath,
    Commands,
    Format,
    LeakedAt,
    TokenFile,
    check_format,
    fail,
    opened,
    read_token,
    show,
    stderr,
)
from ir.cli.trace import traced

if TYPE_CHECKING:
    from ir.playbooks import run
    from ir.playbooks.connectors.base import Secrets

app = typer.Typer(
    help="Contain a traced leak: plan the revocations, dry-run, execute, verify.",
    no_args_is_help=True,
    cls=Commands,  # the same help (exit statuses, plain flags) and error handling
)
PlanFile = Annotated[Path, typer.Argument(help="A plan written by `ir playbook plan`.")]
RunTokenFile = Annotated[
    str | None,
    typer.Option(
        "--token-file",
        help="The raw leaked token, for revocation APIs that need it (GitHub), or - for stdin.",
    ),
]
STEP_COLUMNS = ["id", "provider", "action", "target", "reason"]
RUN_COLUMNS = ["step", "action", "target", "status", "http_status", "detail"]
STATUS_COLUMNS = ["time", "plan_root", "ref", "action", "target", "status", "http_status", "detail"]


@app.command("plan")
def plan_command(
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="Credential ids, kind:value (a bare AKIA/ASIA key id works)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the plan here (default: JSON on stdout).")
    ] = None,
    token_file: TokenFile = None,
    leaked_at: LeakedAt = None,
    rotate: Annotated[
        bool,
        typer.Option(
            "--rotate/--no-rotate",
            help="Rotate leaked keys that a legitimate workload still uses (default) or only revoke.",
        ),
    ] = True,
    quarantine: Annotated[
        bool, typer.Option("--quarantine", help="Also quarantine the users of revoked keys.")
    ] = False,
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
) -> None:
    """Turn a trace into revocation steps, written as an editable JSON plan.

    Example: ir playbook plan aws_access_key:AKIAIOSFODNN7EXAMPLE --out plan.json
    """
    import pandas as pd

    from ir.playbooks import plan as plans
    from ir.playbooks.connectors.base import PlanChoices

    check_format(fmt)
    with opened(case, read_only=True) as opened_case:
        trace = traced(opened_case, ids, token_file, leaked_at)
    plan = plans.make_plan(trace, PlanChoices(rotate=rotate, quarantine=quarantine))
    if out is None:
        sys.stdout.write(render.to_json(plan.to_json()) + "\n")
        return
    plans.save(plan, out)
    steps = pd.DataFrame([s.to_json() for s in plan.steps], columns=STEP_COLUMNS)
    show(steps, fmt, f"plan for {plan.root}")
    stderr.print(f"wrote {escape(str(out))}: {len(plan.steps)} steps", soft_wrap=True)
    if not plan.steps:
        stderr.print("no step: no connector handles the traced credentials' kinds")


@app.command("run")
def run_command(
    plan_file: PlanFile,
    execute: Annotated[
        bool, typer.Option("--execute", help="Make the calls (without it: a dry run).")
    ] = False,
    token_file: RunTokenFile = None,
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
) -> None:
    """Dry-run a plan (every API call it would make), or --execute it, journaling each step.

    Re-running resumes: steps the journal shows finished are skipped.
    Example: ir playbook run plan.json
    Example: ir playbook run plan.json --execute
    """
    from ir.playbooks import journal, run
    from ir.playbooks import plan as plans

    check_format(fmt)
    plan = plans.load(plan_file)
    if not execute:
        outcomes = run.dry_run(plan, journal.finished(case, plan))
        _show_outcomes(outcomes, fmt, f"dry run of {plan_file}: nothing was called", calls=True)
        return
    _require(case)
    outcomes = run.execute(plan, case, _secrets(token_file))
    _show_outcomes(outcomes, fmt, f"run of {plan_file}")
    _exit_if_failed(outcomes)


@app.command()
def status(
    root: Annotated[
        str | None, typer.Option("--root", help="Only the plans of this root credential.")
    ] = None,
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
) -> None:
    """The playbook journal: every step run or verified, when, and what the provider said.

    Example: ir playbook status --format json
    """
    from ir.playbooks import journal

    check_format(fmt)
    _require(case)
    with opened(case, read_only=True) as opened_case:
        entries = journal.entries(opened_case.connection, root)
    frame = entries if fmt != "table" else entries[STATUS_COLUMNS]
    show(frame.drop(columns=["step"], errors="ignore"), fmt, f"journal of {case}")


@app.command()
def verify(
    plan_file: Annotated[
        Path | None,
        typer.Argument(help="Verify this plan's steps (default: every step the journal finished)."),
    ] = None,
    token_file: RunTokenFile = None,
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
) -> None:
    """Ask each provider whether every revoked credential is dead; exit 1 if one still works.

    Example: ir playbook verify
    Example: ir playbook verify plan.json --format json
    """
    from ir.playbooks import plan as plans
    from ir.playbooks import run

    check_format(fmt)
    _require(case)
    secrets = _secrets(token_file)
    if plan_file is None:
        outcomes = run.verify_journal(case, secrets=secrets)
    else:
        outcomes = run.verify(plans.load(plan_file), case, secrets)
    if not outcomes:
        stderr.print(f"nothing to verify: the journal of {escape(str(case))} has no finished step")
    _show_outcomes(outcomes, fmt, "verification")
    _exit_if_failed(outcomes)


def _require(case: Path) -> None:
    """The journal lives in the case: never create an empty one by running a plan."""
    if not case.exists():
        raise fail(f"{case}: no such case file; give the case the plan was made from (--case)")


def _secrets(token_file: str | None) -> Secrets:
    """The raw token by the ids it fingerprints to, in memory only."""
    from ir.credentials import fingerprint_ids
    from ir.playbooks.connectors.base import Secrets

    if token_file is None:
        return Secrets()
    token = read_token(token_file)
    secrets = Secrets({credential: token.strip() for credential in fingerprint_ids(token)})
    del token
    return secrets


def _show_outcomes(outcomes: list[run.Outcome], fmt: str, title: str, calls: bool = False) -> None:
    import pandas as pd

    from ir.playbooks import run

    if fmt == "json":
        sys.stdout.write(render.to_json([o.to_json() for o in outcomes]) + "\n")
        return
    if calls:
        frame = run.calls_frame(outcomes)
    else:
        frame = pd.DataFrame([o.to_json() for o in outcomes], columns=RUN_COLUMNS)
    show(frame, fmt, title)


def _exit_if_failed(outcomes: list[run.Outcome]) -> None:
    failed = [o for o in outcomes if o.failed]
    for outcome in failed:
        line = f"{outcome.step.id} {outcome.result.status}: {outcome.result.detail}"
        stderr.print(escape(render.printable(line)), soft_wrap=True)
    if failed:
        raise typer.Exit(1)
