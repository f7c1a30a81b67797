"""`synth`: a synthetic multi-source incident with its ground truth, for practice and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ir.cli.common import Format, app, check_format, fail, show, stderr


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="An empty (or new) folder for the incident.")],
    events: Annotated[
        int, typer.Option("--events", min=1, help="How many log records to write (about).")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 7,
    blind_spots: Annotated[
        bool,
        typer.Option(
            "--blind-spots",
            help="Leave out a day of CloudTrail, the tenant's Graph activity logs, and the"
            " M365 audit log from day 5 on: blind spots for `ir coverage` and the traces.",
        ),
    ] = False,
    fmt: Format = "table",
) -> None:
    """Write a synthetic multi-source token-leak incident with its ground truth.

    Example: ir synth incident/ --events 100000 --seed 7 && ir ingest incident/
    Example: ir synth blind/ --events 20000 --blind-spots && ir ingest blind/ && ir coverage
    """
    check_format(fmt)
    # the generator is large and only this command needs it
    import pandas as pd

    from ir.synth import BLIND_SPOTS, generate

    try:
        truth = generate(out, events=events, seed=seed, cuts=BLIND_SPOTS if blind_spots else ())
    except FileExistsError as error:
        raise fail(str(error)) from None
    frame = pd.DataFrame(
        {
            "root": list(truth.scenarios),
            "credentials": [len(s.credentials) for s in truth.scenarios.values()],
            "event_rows": [len(s.events) for s in truth.scenarios.values()],
            "decoys": [len(s.decoy_event_ids) for s in truth.scenarios.values()],
        }
    )
    show(
        frame, fmt, f"{truth.events} events in {out}/logs, ground truth in {out}/ground_truth.json"
    )
    if truth.events != events:
        stderr.print(
            f"wrote {truth.events} events, not {events}: the incident itself is a fixed part,"
            " the background fills the rest in whole time windows",
            soft_wrap=True,
        )
