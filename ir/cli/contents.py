"""What the case holds: `sources`, `stats`, `rejects`, `kinds`, and `sql` for the rest."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ir import render
from ir.cli.common import (
    DEFAULT_CASE,
    CasePath,
    Format,
    app,
    check_format,
    existing,
    fail,
    opened,
    show,
    stderr,
)

TABLE_ROWS = 1000  # a table longer than this is for a file, not a terminal


@app.command()
def sources(case: CasePath = DEFAULT_CASE, fmt: Format = "table") -> None:
    """Known log sources, in detection order, with what the case holds of each."""
    from ir import contents

    check_format(fmt)
    with existing(case) as opened_case:
        frame = contents.sources(opened_case.connection if opened_case else None)
    show(frame, fmt, "sources")


@app.command()
def stats(case: CasePath = DEFAULT_CASE, fmt: Format = "table") -> None:
    """Per source: files, events, credentials, rejects and time span."""
    check_format(fmt)
    with opened(case, read_only=True) as opened_case:
        show(opened_case.stats(), fmt, f"case {case}")


@app.command()
def rejects(
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
    limit: Annotated[int, typer.Option(help="At most this many rows (0: all).")] = 100,
) -> None:
    """Records that could not be loaded: file, record number, reason."""
    check_format(fmt)
    with opened(case, read_only=True) as opened_case:
        show(opened_case.rejects(limit), fmt, "rejects")


@app.command()
def kinds(
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
    resources: Annotated[
        bool,
        typer.Option("--resources", help="The resource types each source emits instead."),
    ] = False,
) -> None:
    """Credential kinds ir knows (kind:value ids), with how many of each the case holds;
    with --resources, the resource types each source emits."""
    from ir import contents

    check_format(fmt)
    with existing(case) as opened_case:
        connection = opened_case.connection if opened_case else None
        if resources:
            show(contents.resource_types(connection), fmt, "resource types")
            return
        frame = contents.kinds(connection)
    show(frame, fmt, "credential kinds")


@app.command()
def credentials(
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind (ir kinds).")] = None,
    principal: Annotated[
        str | None, typer.Option("--principal", help="Only principals containing this text.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only those used at or after this time.")
    ] = None,
) -> None:
    """Every credential in the case: kind, principal, first and last use, events, places,
    revoked or expired.

    Example: ir credentials --kind aws_access_key --since 2026-09-04
    """
    check_format(fmt)
    with opened(case, read_only=True) as opened_case:
        frame = opened_case.credentials(kind, principal, since)
    show(frame, fmt, f"{len(frame):,} credentials")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A SELECT over the case tables.")],
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
    raw: Annotated[
        bool,
        typer.Option("--raw", help="csv: keep cells starting with = + - @ as stored (unsafe)."),
    ] = False,
) -> None:
    """Run a read-only SQL query on the case: no writes, no files or network outside it.

    The table shows the first 1,000 rows and says how many it left out; csv and json
    give every row.

    Example: ir sql "SELECT action, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"
    """
    import duckdb

    check_format(fmt)
    with opened(case, read_only=True) as opened_case:
        opened_case.sandbox()
        try:
            if fmt == "table":
                frame, total = opened_case.sql_head(query, TABLE_ROWS)
            else:
                frame = opened_case.sql(query)
        except duckdb.Error as error:
            raise fail(f"query failed: {str(error).strip().splitlines()[0]}") from None
    if fmt == "csv":
        sys.stdout.write(render.frame_text(frame, fmt, raw=raw))
        return
    show(frame, fmt)
    if fmt == "table" and total > len(frame):
        stderr.print(
            f"showing the first {len(frame):,} of {total:,} rows ({total - len(frame):,} left"
            " out); --format csv or json gives them all"
        )
