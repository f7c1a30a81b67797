"""The `ir` command line: parse arguments, call the library, render. Nothing else.

Data goes to stdout (tables on a terminal, `--format json|csv` for scripts);
progress and messages go to stderr. Exit status: 0 ok, 1 error naming the
file/record/argument, 2 usage error, 3 nothing found.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import duckdb
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.text import Text
from typer.core import TyperGroup

from ir import render
from ir import report as reports
from ir import timeline as timelines
from ir.case import DAMAGE, Case, CaseError, damaged, open_case
from ir.export import ExportError, export_parquet
from ir.ingest import FileReport
from ir.trace import Trace
from parsers import registry
from parsers.toml import MappingError


class _Commands(TyperGroup):
    """A case file damaged where only a query finds it (a bad block) ends the command
    with one line naming the case, not a traceback."""

    case: Path | None = None  # the case the running command opened (see _open)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except duckdb.Error as error:
            if not DAMAGE.search(str(error)):
                raise
            message = damaged(_Commands.case or "the case file", error)
            stderr.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="ir",
    help="Trace a leaked token through audit logs: ingest, trace, timeline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Commands,
)
# Piped output keeps wide tables readable; a terminal uses its own width.
stdout = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 200)
stderr = Console(stderr=True, highlight=False)

CasePath = Annotated[
    Path,
    typer.Option(
        "--case",
        envvar="IR_CASE",
        help="Case file (default: $IR_CASE, else ./case.duckdb).",
        show_default=False,
    ),
]
Format = Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")]
TokenFile = Annotated[
    str | None,
    typer.Option("--token-file", help="A file holding the raw leaked token, or - for stdin."),
]
LeakedAt = Annotated[
    str | None,
    typer.Option("--leaked-at", help="Exposure time (ISO 8601); default: 24 h after first use."),
]
DEFAULT_CASE = Path("case.duckdb")


def fail(message: str, status: int = 1) -> typer.Exit:
    stderr.print(f"[bold red]error:[/] {escape(render.printable(message))}", soft_wrap=True)
    return typer.Exit(status)


def _open(path: Path, read_only: bool = False) -> Case:
    """The case, waiting (with one line on stderr) while another process writes it."""
    _Commands.case = path
    try:
        return open_case(
            path,
            read_only=read_only,
            lock_timeout=_lock_timeout(),
            on_wait=lambda message: stderr.print(escape(message), soft_wrap=True),
        )
    except CaseError as error:
        raise fail(str(error)) from None


def _lock_timeout() -> float | None:
    text = os.environ.get("IR_LOCK_TIMEOUT")
    try:
        return None if text is None else float(text)
    except ValueError:
        raise fail(f"IR_LOCK_TIMEOUT={text}: give seconds, e.g. 120", 2) from None


def _check_format(fmt: str, allowed: tuple[str, ...] = render.FORMATS) -> None:
    if fmt not in allowed:
        stderr.print(f"error: --format must be one of {', '.join(allowed)}")
        raise typer.Exit(2)


def _show(frame: pd.DataFrame, fmt: str, title: str | None = None) -> None:
    if fmt == "table":
        stdout.print(render.table(frame, title))
    else:
        sys.stdout.write(render.frame_text(frame, fmt))
        if fmt == "json":
            sys.stdout.write("\n")


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
) -> None:
    """Load audit-log files into the case. Re-ingesting a file adds nothing.

    Example: ir ingest ./cloudtrail/ okta-export.json --case incident.duckdb
    """
    _check_format(fmt)
    try:
        available = registry.load(mappings or [])
        if source:
            available.get(source)
    except MappingError as error:
        raise fail(str(error), 2) from None
    except registry.UnknownSource as error:
        raise fail(f"--source: {error}", 2) from None
    with _open(case) as opened, _progress() as progress:
        task = progress.add_task("ingesting", total=None)
        reports = opened.ingest(
            *paths,
            source=source,
            mappings=mappings or [],
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    for report in reports:
        if report.error:
            file, error = render.printable(report.file), render.printable(report.error)
            stderr.print(f"[red]{escape(file)}[/]: {escape(error)}", soft_wrap=True)
    if fmt == "json":
        sys.stdout.write(render.to_json([r.to_json() for r in reports]) + "\n")
    else:
        _show(_ingest_frame(reports), fmt, "ingested")
    if any(r.error for r in reports):
        raise typer.Exit(1)


def _ingest_frame(reports: list[FileReport]) -> pd.DataFrame:
    columns = ["file", "source", "records", "loaded", "duplicates", "rejected"]
    rows = [
        {
            **{c: getattr(r, c) for c in columns},
            "note": r.error or r.note or ("already in the case" if r.skipped else ""),
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


@app.command()
def sources(case: CasePath = DEFAULT_CASE, fmt: Format = "table") -> None:
    """Known log sources, in detection order, with what the case holds of each."""
    _check_format(fmt)
    counts = _case_counts(
        case,
        "SELECT source, count(*) AS files, sum(loaded) AS events FROM evidence_files GROUP BY source",
    )
    rows = [
        {
            "source": name,
            "files": int(counts.get(name, (0, 0))[0]),
            "events": int(counts.get(name, (0, 0))[1]),
            "what": _module_summary(name),
        }
        for name in registry.SOURCES
    ]
    _show(pd.DataFrame(rows), fmt, "sources")


def _module_summary(name: str) -> str:
    doc = (importlib.import_module(f"parsers.{name}").__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def _case_counts(case: Path, query: str) -> dict[str, tuple[int, int]]:
    if not case.exists():
        return {}
    with _open(case, read_only=True) as opened:
        return {row[0]: tuple(row[1:]) for row in opened.connection.execute(query).fetchall()}


@app.command()
def stats(case: CasePath = DEFAULT_CASE, fmt: Format = "table") -> None:
    """Per source: files, events, credentials, rejects and time span."""
    _check_format(fmt)
    with _open(case, read_only=True) as opened:
        _show(opened.stats(), fmt, f"case {case}")


@app.command()
def rejects(
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
    limit: Annotated[int, typer.Option(help="At most this many rows (0: all).")] = 100,
) -> None:
    """Records that could not be loaded: file, record number, reason."""
    _check_format(fmt)
    query = (
        "SELECT f.path AS file, r.record_no, r.source, r.reason FROM rejects r"
        " JOIN evidence_files f USING (file_id) ORDER BY f.path, r.record_no"
    )
    if limit > 0:
        query += f" LIMIT {int(limit)}"
    with _open(case, read_only=True) as opened:
        _show(opened.sql(query), fmt, "rejects")


@app.command("verify-evidence")
def verify_evidence(case: CasePath = DEFAULT_CASE, fmt: Format = "table") -> None:
    """Re-hash every evidence file; name each that changed or vanished since ingest (exit 1).

    Example: ir verify-evidence --case incident.duckdb --format json
    """
    _check_format(fmt)
    with _open(case, read_only=True) as opened:
        frame = opened.verify_evidence()
    _show(frame, fmt, "evidence files")
    bad = frame[frame["status"] != "ok"]
    for row in bad.itertuples():
        path = escape(render.printable(row.path))
        stderr.print(f"[red]{path}[/]: {row.status} since ingest", soft_wrap=True)
    if len(bad):
        raise typer.Exit(1)


@app.command()
def show(
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
    from ir.evidence import EvidenceError, UnknownEvent, raw_text

    with _open(case, read_only=True) as opened:
        try:
            text = raw_text(opened.connection, event)
        except UnknownEvent as error:
            raise fail(str(error), 3) from None
        except EvidenceError as error:
            raise fail(str(error)) from None
    sys.stdout.write(render.json_safe(render.indent_json(text)) + "\n")


@app.command()
def kinds(case: CasePath = DEFAULT_CASE, fmt: Format = "table") -> None:
    """Credential kinds ir knows (contract §1), with how many of each the case holds."""
    _check_format(fmt)
    try:
        known = registry.kinds()
    except MappingError as error:
        raise fail(str(error), 2) from None
    counts = _case_counts(
        case, "SELECT kind, count(DISTINCT credential), count(*) FROM credential_refs GROUP BY kind"
    )
    rows = [
        {
            "kind": k.name,
            "vendor": k.vendor,
            "value": k.value,
            "credentials": int(counts.get(k.name, (0, 0))[0]),
            "references": int(counts.get(k.name, (0, 0))[1]),
        }
        for k in known
    ]
    _show(pd.DataFrame(rows), fmt, "credential kinds")


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
    _check_format(fmt)
    if not ids and token_file is None:
        stderr.print("error: give a credential id or --token-file")
        raise typer.Exit(2)
    token = _read_token(token_file) if token_file is not None else None
    with _open(case, read_only=True) as opened:
        try:
            result = opened.trace(*(ids or []), token=token, leaked_at=leaked_at)
        except ValueError as error:  # UnknownCredential, bad time: the message holds no secret
            raise fail(str(error), 2) from None
    del token
    if not result.found:
        stderr.print(f"no event in {case} references {', '.join(result.query)}", soft_wrap=True)
        raise typer.Exit(3)
    if fmt == "json":
        sys.stdout.write(render.to_json(result.to_json()) + "\n")
    elif fmt == "csv":
        sys.stdout.write(render.frame_text(result.events, "csv"))
    else:
        _show_trace(result)


def _read_token(token_file: str) -> str:
    """The raw token, in memory only. The argument is never repeated in a message: a
    responder may paste the token itself where its file name belongs."""
    try:
        data = sys.stdin.buffer.read() if token_file == "-" else Path(token_file).read_bytes()
        return data.decode("utf-8")
    except OSError as error:
        raise fail(
            f"--token-file: cannot read that file ({error.strerror}); give the path of a file"
            " holding the token, or - for stdin",
            2,
        ) from None
    except UnicodeDecodeError:
        raise fail(
            "--token-file: the token is not UTF-8 text (its bytes are not shown)", 2
        ) from None


def _show_trace(result: Trace) -> None:
    stdout.print(
        Text(f"lineage of {result.root} (exposure {render.iso(result.leaked_at)})", style="bold")
    )
    stdout.print(render.lineage_tree(result.credentials, result.root))
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
    _check_format(fmt, (*timelines.FORMATS, *reports.FORMATS))
    traced = bool(root) or token_file is not None
    if fmt in reports.FORMATS and not traced:
        stderr.print(
            f"error: --format {fmt} is the breach report of a trace: give --root or --token-file"
        )
        raise typer.Exit(2)
    token = _read_token(token_file) if token_file is not None else None
    with _open(case, read_only=True) as opened:
        try:
            if not traced:
                output = timelines.text(opened.timeline(since, until), fmt, raw=raw)
            else:
                result = opened.trace(*(root or []), token=token, leaked_at=leaked_at)
                if not result.found:
                    stderr.print(f"no event in {case} references {', '.join(result.query)}")
                    raise typer.Exit(3)
                output = (
                    reports.render_text(result, fmt)
                    if fmt in reports.FORMATS
                    else timelines.text(result.timeline(since, until), fmt, raw=raw)
                )
        except ValueError as error:  # bad id or time: the message holds no secret
            raise fail(str(error), 2) from None
    del token
    if out is None:
        sys.stdout.write(output)
    else:
        out.write_text(output, encoding="utf-8")
        stderr.print(f"wrote {escape(str(out))}")


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
    with _open(case, read_only=True) as opened:
        try:
            written = export_parquet(opened.connection, parquet)
        except ExportError as error:
            raise fail(str(error)) from None
    _show(
        pd.DataFrame({"table": list(written), "rows": list(written.values())}),
        "table",
        str(parquet),
    )


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

    Example: ir sql "SELECT action, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"
    """
    _check_format(fmt)
    with _open(case, read_only=True) as opened:
        opened.sandbox()
        try:
            frame = opened.sql(query)
        except duckdb.Error as error:
            raise fail(f"query failed: {str(error).strip().splitlines()[0]}") from None
    if fmt == "csv":
        sys.stdout.write(render.frame_text(frame, fmt, raw=raw))
    else:
        _show(frame, fmt)


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="An empty (or new) folder for the incident.")],
    events: Annotated[int, typer.Option("--events", help="How many log records to write.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 7,
    fmt: Format = "table",
) -> None:
    """Write a synthetic multi-source token-leak incident with its ground truth.

    Example: ir synth incident/ --events 100000 --seed 7 && ir ingest incident/
    """
    _check_format(fmt)
    from ir.synth import generate

    try:
        truth = generate(out, events=events, seed=seed)
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
    _show(
        frame, fmt, f"{truth.events} events in {out}/logs, ground truth in {out}/ground_truth.json"
    )
