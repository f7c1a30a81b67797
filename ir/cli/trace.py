"""Following a credential: `trace` and `timeline` (Timesketch rows or the breach report)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape
from rich.text import Text

from ir import coverage as coverages
from ir import render
from ir import report as reports
from ir import timeline as timelines
from ir.case import Case, Trace
from ir.cli.common import (
    DEFAULT_CASE,
    CasePath,
    Format,
    LeakedAt,
    TokenFile,
    app,
    check_format,
    fail,
    opened,
    read_token,
    stderr,
    stdout,
)
from ir.errors import NotFound


def traced(
    case: Case, ids: list[str] | None, token_file: str | None, leaked_at: str | None
) -> Trace:
    """The trace of ids or of a token file's secret (read here, dropped here); NotFound
    when no event references them (exit 3)."""
    if not ids and token_file is None:
        raise fail("give a credential id or --token-file", 2)
    token = read_token(token_file) if token_file is not None else None
    result = case.trace(*(ids or []), token=token, leaked_at=leaked_at)
    del token
    if not result.found:
        raise NotFound(f"no event in {case.path} references {', '.join(result.query)}")
    return result


@app.command()
def trace(
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="Credential ids, kind:value (a bare AKIA/ASIA key id works)."),
    ] = None,
    token_file: TokenFile = None,
    leaked_at: LeakedAt = None,
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
) -> None:
    """Everything derived from a credential, every event that touched it, and from where.

    Example: ir trace aws_access_key:AKIAIOSFODNN7EXAMPLE --format json
    Example: ir trace --token-file leaked_token.txt
    """
    check_format(fmt)
    with opened(case, read_only=True) as opened_case:
        result = traced(opened_case, ids, token_file, leaked_at)
    if fmt == "json":
        sys.stdout.write(render.to_json(result.to_json()) + "\n")
    elif fmt == "csv":
        sys.stdout.write(render.frame_text(result.events, "csv"))
    else:
        _show_trace(result)


def _show_trace(result: Trace) -> None:
    stdout.print(
        Text(f"lineage of {result.root} (exposure {render.iso(result.leaked_at)})", style="bold")
    )
    stdout.print(render.lineage_tree(result.credentials, result.root))
    blind = coverages.blind_spots(result.coverage)
    if not blind.empty:
        stdout.print(
            render.table(
                blind.drop(columns="span"),
                "blind spots: logs that could show these credentials' use do not cover their life",
            )
        )
    places = result.places.drop(columns=["credentials", "tenant"])
    stdout.print(
        render.highlighted_table(
            places, "places (new: not seen before exposure)", "new", "bold red"
        )
    )
    events = result.events.assign(note=_event_notes(result.events))
    columns = ["time", "source", "action", "credential", "relation", "outcome", "client_ip", "note"]
    stdout.print(
        render.highlighted_table(
            events[columns], "events (red: used after revocation)", "after_revocation", "bold red"
        )
    )


def _event_notes(events: pd.DataFrame) -> list[str]:
    return [
        "used after revocation" if late else "outlived a revoked parent" if orphan else ""
        for late, orphan in zip(
            events["after_revocation"], events["after_ancestor_revocation"], strict=True
        )
    ]


@app.command()
def timeline(
    root: Annotated[
        list[str] | None,
        typer.Option("--root", help="Trace this credential id (repeatable); default: whole case."),
    ] = None,
    token_file: TokenFile = None,
    leaked_at: LeakedAt = None,
    since: Annotated[
        str | None, typer.Option("--since", help="csv/jsonl: events at or after this time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="csv/jsonl: events before this time.")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="csv, jsonl (Timesketch rows) or md, html (report)."),
    ] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="Write here, not to stdout.")] = None,
    raw: Annotated[
        bool,
        typer.Option("--raw", help="csv: keep cells starting with = + - @ as logged (unsafe)."),
    ] = False,
    case: CasePath = DEFAULT_CASE,
) -> None:
    """Timesketch-ready timeline (csv, jsonl) or the breach report (md, html) of a trace.

    Example: ir timeline --token-file leaked_token.txt --format html --out report.html
    Example: ir timeline --since 2026-09-04 --until 2026-09-05 --format jsonl --out case.jsonl
    """
    check_format(fmt, (*timelines.FORMATS, *reports.FORMATS))
    traced_ = bool(root) or token_file is not None
    if fmt in reports.FORMATS and not traced_:
        raise fail(
            f"--format {fmt} is the breach report of a trace: give --root or --token-file", 2
        )
    with opened(case, read_only=True) as opened_case:
        if not traced_:
            output = timelines.text(opened_case.timeline(since, until), fmt, raw=raw)
        else:
            result = traced(opened_case, root, token_file, leaked_at)
            output = (
                reports.render_text(result, fmt)
                if fmt in reports.FORMATS
                else timelines.text(result.timeline(since, until), fmt, raw=raw)
            )
    if out is None:
        sys.stdout.write(output)
    else:
        out.write_text(output, encoding="utf-8")
        stderr.print(f"wrote {escape(str(out))}")
