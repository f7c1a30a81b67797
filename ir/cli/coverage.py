"""`coverage`: what the case can see, per source and tenant, and where it is blind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ir import render
from ir.cli.common import (
    DEFAULT_CASE,
    CasePath,
    Format,
    app,
    check_format,
    opened,
    show,
    stdout,
)

if TYPE_CHECKING:
    import pandas as pd


@app.command()
def coverage(case: CasePath = DEFAULT_CASE, fmt: Format = "table") -> None:
    """Per source and tenant: first and last event, events, evidence files, layouts, gaps,
    the vendor's retention and what the export cannot hold.

    A gap is a run of hours with no event where the source's own activity at the same hours
    on other days says events were due (README: how to read a blind spot).

    Example: ir coverage --format json
    """
    check_format(fmt)
    with opened(case, read_only=True) as opened_case:
        frame = opened_case.coverage()
    if fmt != "table":
        show(frame, fmt)
        return
    show(_compact(frame), fmt, f"coverage of {case}")
    stdout.print(
        render.table(_notes(frame), "what the vendors keep, and what the exports cannot hold")
    )


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """One line per gap, retention as its periods; the wording goes to `_notes`."""
    from ir import coverage as coverages

    facts = coverages.catalog()
    return frame.drop(columns=["limits"]).assign(
        gaps=[[coverages.gap_text(g) for g in gaps] for gaps in frame["gaps"]],
        retention=[
            " / ".join(
                f"{days} d" for days in sorted(r.days for r in facts.facts(source).retention)
            )
            or "?"
            for source in frame["source"]
        ],
    )


def _notes(frame: pd.DataFrame) -> pd.DataFrame:
    """Per source in the case, what its tenant is, its retention periods and export
    limits, once each."""
    import pandas as pd

    from ir import coverage as coverages

    facts = coverages.catalog()
    rows = [
        {"source": source, "note": note}
        for source, retention, limits in zip(
            frame["source"], frame["retention"], frame["limits"], strict=True
        )
        for note in [f"tenant: {facts.facts(source).tenant}", *retention, *limits]
    ]
    return pd.DataFrame(rows, columns=["source", "note"]).drop_duplicates(ignore_index=True)
