"""Hunting without a known id: `hunt` ranks the case's credential lineages (contract §10)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from ir import render
from ir.cli.common import (
    DEFAULT_CASE,
    CasePath,
    Format,
    app,
    check_format,
    opened,
    show,
    stderr,
)

if TYPE_CHECKING:
    import pandas as pd

STRONGEST = 3  # reasons shown per finding in the table; json and csv carry them all


@app.command()
def hunt(
    since: Annotated[
        str | None,
        typer.Option("--since", help="Evidence from this time on (baselines use all history)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Ignore events at or after this time.")
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", help="At most N findings, highest score first.")
    ] = None,
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
) -> None:
    """Rank credential lineages by evidence that someone else uses them; trace the top ones next.

    Example: ir hunt --top 10
    Example: ir hunt --since 2026-09-01 --format json
    """
    import pandas as pd

    from ir import hunt as hunting

    check_format(fmt)
    with opened(case, read_only=True) as opened_case:
        findings = opened_case.hunt(since, until, top)
    weights = hunting.load_weights()
    if fmt == "json":
        document = hunting.to_json(findings, weights, pd.Timestamp.now(tz="UTC"))
        sys.stdout.write(render.to_json(document) + "\n")
        return
    unscored = "; ".join(f"{s.name} ({s.not_scored})" for s in weights.unscored())
    if fmt == "csv":
        show(findings, fmt)
        if unscored:
            stderr.print(f"not scored: {unscored}", soft_wrap=True, markup=False)
        return
    title = f"{len(findings)} findings, highest score first; trace one next: ir trace CREDENTIAL"
    show(_table(findings), fmt, f"{title}\nnot scored: {unscored}" if unscored else title)


def _table(findings: pd.DataFrame) -> pd.DataFrame:
    """The worklist view: the strongest reasons and how much derives from each finding."""
    import pandas as pd

    return pd.DataFrame(
        {
            "credential": findings["credential"],
            "principal": findings["principal"],
            "score": findings["score"],
            "strongest reasons": [
                [f"{r['signal']} {r['weight']:g}: {r['detail']}" for r in reasons[:STRONGEST]]
                for reasons in findings["reasons"]
            ],
            "first suspicious use": findings["first_suspicious_use"],
            "derived": [len(derived) for derived in findings["derived"]],
        }
    )
