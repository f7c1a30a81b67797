"""Evidence straight from the providers: `ir collect PROVIDER` (contract §8).

Progress per stream on stderr (pages, records, waits for a rate limit); then a summary
table per stream, or with `--format json` the per-file list of `ir ingest --format json`.
A provider's refusal ends the command with one line naming the setting and the
permission, after what was already written has been ingested.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

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
)
from ir.cli.evidence import ingest_frame

if TYPE_CHECKING:
    from ir import collectors

FILE_COLUMNS = ["file", "source", "records", "loaded", "duplicates", "rejected"]
SUMMARY_COLUMNS = [
    "stream",
    "source",
    "since",
    "until",
    "pages",
    "records",
    "loaded",
    "duplicates",
    "rejected",
    "resumed",
]


# The collectors' names, spelled here so that `ir --help` need not load them (their
# clients pull in httpx and boto3); tests/collectors check both lists agree.
PROVIDERS = ("aws", "okta", "github", "entra", "google", "slack", "salesforce")


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@app.command()
def collect(
    provider: Annotated[
        str,
        typer.Argument(help=f"One of {', '.join(PROVIDERS)}.", show_default=False),
    ],
    since: Annotated[
        str | None, typer.Option("--since", help="Start: ISO 8601, or an age (7d, 24h, 30m).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="End (excluded): ISO 8601 or an age; default now.")
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder for the raw pages: OUT/<provider>/… (default evidence/)."
        ),
    ] = Path("evidence"),
    s3: Annotated[
        str | None,
        typer.Option("--s3", help="aws: the trail's bucket, s3://BUCKET or s3://BUCKET/PREFIX."),
    ] = None,
    lookup: Annotated[
        bool, typer.Option("--lookup", help="aws: CloudTrail Event history (LookupEvents).")
    ] = False,
    org: Annotated[str | None, typer.Option("--org", help="github: the organization.")] = None,
    enterprise: Annotated[
        str | None, typer.Option("--enterprise", help="github: the enterprise slug.")
    ] = None,
    logs: Annotated[
        str | None, typer.Option("--logs", help="entra: signins, audits or both (default both).")
    ] = None,
    applications: Annotated[
        str | None,
        typer.Option(
            "--applications", help="google: Reports applications (default login,token,admin,drive)."
        ),
    ] = None,
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
) -> None:
    """Pull audit logs from a provider's API into the case; every page is kept raw under --out.

    Settings come from the environment (the playbooks' names); read-only permissions
    suffice. Re-running the same window adds nothing; an interrupted run resumes.
    Example: ir collect okta --since 7d
    Example: ir collect aws --s3 s3://org-trail/AWSLogs --since 2026-09-01 --until 2026-09-05
    Example: ir collect github --org corp-eng --since 24h --format json
    """
    from ir import collectors

    check_format(fmt)
    options = collectors.Options(
        s3=s3,
        lookup=lookup,
        org=org,
        enterprise=enterprise,
        logs=_names(logs) if logs is not None else collectors.Options.logs,
        applications=(
            _names(applications) if applications is not None else collectors.Options.applications
        ),
    )
    failure: collectors.CollectionFailed | None = None
    with opened(case) as opened_case, _progress() as report:
        try:
            collection = opened_case.collect(
                provider, since=since, until=until, out=out, options=options, report=report
            )
        except collectors.CollectionFailed as error:
            failure, collection = error, error.collection
    _show(collection, fmt)
    if failure is not None:
        raise fail(str(failure))
    if any(r.error for r in collection.reports):
        raise typer.Exit(1)


@contextmanager
def _progress() -> Iterator[collectors.Report]:
    """A line per stream on stderr: pages, records, and any wait the provider asked for."""
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.fields[pages]} pages, {task.fields[records]} records"),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )
    tasks: dict[str, TaskID] = {}
    last: list[str] = []

    def report(progress: collectors.Progress) -> None:
        if progress.waiting is not None:
            note = f"[yellow]waiting {progress.waiting:.0f} s: rate limit or retry[/]"
            if last:
                bar.update(tasks[last[0]], note=note)
            if not stderr.is_terminal:
                stderr.print(
                    f"{progress.provider}: waiting {progress.waiting:.0f} s (provider asked)"
                )
            return
        name = f"{progress.provider} {progress.stream}"
        if name not in tasks:
            tasks[name] = bar.add_task(escape(name), total=None, pages=0, records=0, note="")
        last[:] = [name]
        bar.update(tasks[name], pages=progress.pages, records=progress.records, note="")

    with bar:
        yield report


def _show(collection: collectors.Collection, fmt: str) -> None:
    import pandas as pd

    for stream in collection.streams:
        for skipped in stream.skipped:
            stderr.print(f"skipped {escape(render.printable(skipped))}", soft_wrap=True)
    for report in collection.reports:
        if report.error:
            file, reason = render.printable(report.file), render.printable(report.error)
            stderr.print(f"[red]{escape(file)}[/]: {escape(reason)}", soft_wrap=True)
    if fmt == "json":
        sys.stdout.write(render.to_json([r.to_json() for r in collection.reports]) + "\n")
    elif fmt == "csv":
        show(ingest_frame(collection.reports), fmt)
    else:
        rows = [s.totals() for s in collection.streams]
        show(pd.DataFrame(rows, columns=SUMMARY_COLUMNS), fmt, "collected, per stream")
