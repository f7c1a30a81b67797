"""Evidence in and out: `ingest`, `forget`, `verify-evidence`, `show`, `export`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from ir import render
from ir.cli.common import (
    DEFAULT_CASE,
    CasePath,
    Format,
    app,
    check_format,
    fail,
    opened,
    show,
    stderr,
    stdout,
)

if TYPE_CHECKING:
    import pandas as pd

    from ir.ingest import FileReport


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (recursive).")],
    case: CasePath = DEFAULT_CASE,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Skip detection: parse every file as this source."),
    ] = None,
    mappings: Annotated[
        list[Path] | None,
        typer.Option("--mappings", help="Folder of source mapping files (TOML), repeatable."),
    ] = None,
    fmt: Format = "table",
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="table: every file, not only those with problems."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Read files already in the case again (e.g. with another --source) and"
            " replace their events, references and rejects; journaled.",
        ),
    ] = False,
) -> None:
    """Load audit-log files into the case. Re-ingesting a file adds nothing (--force
    re-reads it and replaces what it loaded).

    The table sums up each source and lists only the files with problems (every file
    with --verbose; json and csv list every file). A file no source matched stays named
    in the case (`ir stats`, `ir rejects`) until an ingest loads it.
    Example: ir ingest ./cloudtrail/ okta-export.json --case incident.duckdb
    Example: ir ingest --force --source okta okta-export.json
    """
    from ir.ingest import summary, with_problems
    from parsers import registry
    from parsers.toml import MappingError

    check_format(fmt)
    try:
        available = registry.load(mappings or [])
        if source:
            available.get(source)
    except MappingError as error:
        raise fail(str(error), 2) from None
    except registry.UnknownSource as error:
        raise fail(f"--source: {error}", 2) from None
    with opened(case) as opened_case, _progress() as progress:
        task = progress.add_task("ingesting", total=None)
        reports = opened_case.ingest(
            *paths,
            source=source,
            mappings=mappings or [],
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            force=force,
        )
    for report in reports:
        if report.error:
            file, reason = render.printable(report.file), render.printable(report.error)
            stderr.print(f"[red]{escape(file)}[/]: {escape(reason)}", soft_wrap=True)
    if fmt == "json":
        sys.stdout.write(render.to_json([r.to_json() for r in reports]) + "\n")
    elif fmt == "csv" or verbose:
        show(ingest_frame(reports), fmt, "ingested")
    else:
        show(summary(reports), fmt, f"ingested {len(reports)} files, per source")
        problems = with_problems(reports)
        if problems:
            show(ingest_frame(problems), fmt, f"{len(problems)} files with problems")
        again = [r for r in reports if r.replaced and not (r.error or r.rejected)]
        if again:
            show(ingest_frame(again), fmt, f"{len(again)} files read again (--force)")
    if any(r.error for r in reports):
        raise typer.Exit(1)


@app.command()
def forget(
    files: Annotated[
        list[str],
        typer.Argument(help="Evidence files: as ingested (path or folder), or their SHA-256."),
    ],
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
) -> None:
    """Take evidence files back out of the case with every event, reference and reject they
    brought; journaled. A file forgotten before is said to be, and is no error.

    Example: ir forget okta-export.json
    """
    import pandas as pd

    check_format(fmt)
    if not case.exists():  # opening would create it: there is nothing to forget
        raise fail(f"{case}: no such case file")
    with opened(case) as opened_case:
        removed = opened_case.forget(*files)
    frame = pd.DataFrame(
        [
            {
                "file": r.path,
                "source": r.source,
                "removed": r.summary() if r.already is None else f"already forgotten {r.already}",
                **{table: r.rows.get(table, 0) for table in FORGOTTEN_COLUMNS},
            }
            for r in removed
        ],
        columns=["file", "source", "removed", *FORGOTTEN_COLUMNS],
    )
    show(frame if fmt != "table" else frame[["file", "source", "removed"]], fmt, "forgotten")
    for later in dict.fromkeys(path for r in removed for path in r.redelivered_by):
        stderr.print(
            f"{escape(render.printable(later))}: counted duplicates at ingest, perhaps of the"
            " forgotten events; `ir ingest --force` it to load its copies of them",
            soft_wrap=True,
        )


FORGOTTEN_COLUMNS = ["events", "credential_refs", "event_resources", "event_hours", "rejects"]


def ingest_frame(reports: list[FileReport]) -> pd.DataFrame:
    import pandas as pd

    columns = ["file", "source", "records", "loaded", "duplicates", "rejected"]
    rows = [
        {
            **{c: getattr(r, c) for c in columns},
            "note": "; ".join(
                text
                for text in (
                    r.error,
                    r.note,
                    r.replaced and f"replaced {r.replaced}",
                    "already in the case" if r.skipped else None,
                )
                if text
            ),
        }
        for r in reports
    ]
    return pd.DataFrame(rows, columns=[*columns, "note"])


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )


@app.command("verify-evidence")
def verify_evidence(case: CasePath = DEFAULT_CASE, fmt: Format = "table") -> None:
    """Re-hash every evidence file; name each that changed or vanished since ingest (exit 1).

    The table lists only those (json and csv list every file).

    Example: ir verify-evidence --case incident.duckdb --format json
    """
    check_format(fmt)
    with opened(case, read_only=True) as opened_case:
        frame = opened_case.verify_evidence()
    bad = frame[frame["status"] != "ok"]
    if fmt != "table":
        show(frame, fmt)
    elif bad.empty:
        stdout.print(f"all {len(frame)} evidence files verified: unchanged since ingest")
    else:
        show(bad, fmt, f"{len(bad)} of {len(frame)} evidence files changed or missing")
    for row in bad.itertuples():
        stderr.print(
            f"[red]{escape(render.printable(row.path))}[/]: {row.status} since ingest",
            soft_wrap=True,
        )
    if len(bad):
        raise typer.Exit(1)


@app.command("show")
def show_record(
    event: Annotated[
        str,
        typer.Argument(
            help="source:source_event_id, an event_key, or file#record (a trace's evidence)."
        ),
    ],
    case: CasePath = DEFAULT_CASE,
) -> None:
    """Print the raw vendor record behind an event, re-read from its evidence file (JSON).

    Refuses when the file changed since ingest.
    Example: ir show okta:7f1c2a30-8a11-11f1-9c3e-0d1e2f3a4b01
    """
    from ir.evidence import raw_text

    with opened(case, read_only=True) as opened_case:
        text = raw_text(opened_case.connection, event)
    sys.stdout.write(render.json_safe(render.indent_json(text)) + "\n")


@app.command()
def export(
    parquet: Annotated[
        Path, typer.Option("--parquet", help="A new folder for Hive-partitioned Parquet.")
    ],
    case: CasePath = DEFAULT_CASE,
) -> None:
    """Write the case as Parquet partitioned by source and date, for other engines.

    Example: ir export --parquet incident-parquet/
    """
    import pandas as pd

    from ir.export import export_parquet

    with opened(case, read_only=True) as opened_case:
        written = export_parquet(opened_case.connection, parquet)
    frame = pd.DataFrame({"table": list(written), "rows": list(written.values())})
    show(frame, "table", str(parquet))
