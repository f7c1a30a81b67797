"""Following a credential: `trace` and `timeline` (Timesketch rows or the breach report)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from ir import render
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
    output,
    read_token,
    stderr,
    stdout,
)
from ir.errors import NotFound

Actor = Annotated[
    str | None,
    typer.Option(
        "--actor", help="Also every credential this user held (as logged, or an ARN's last part)."
    ),
]
Ip = Annotated[
    str | None,
    typer.Option("--ip", help="Also every credential used from this address or CIDR."),
]
if TYPE_CHECKING:
    import pandas as pd

    from ir.case import Case, Trace

# The table shows the top of each part (json and csv hold everything).
TOP_CREDENTIALS = 25  # children under one parent in the lineage tree
TOP_PLACES = 20
TOP_EVENTS = 50
ANCESTOR_COLUMNS = ["id", "relation_to_parent", "parent", "time", "parent_revoked_at"]
ANCESTOR_HEADINGS = {
    "id": "credential",
    "relation_to_parent": "via",
    "parent": "issued by",
    "time": "issued at",
    "parent_revoked_at": "issuer revoked at",
}


def traced(
    case: Case,
    ids: list[str] | None,
    token_file: str | None,
    leaked_at: str | None,
    must_find: bool = True,
    actor: str | None = None,
    ip: str | None = None,
) -> Trace:
    """The trace of ids, of a token file's secret (read here, dropped here), and of the
    credentials an actor held or an address used, all of them; NotFound when no event
    references them (exit 3), unless not `must_find`."""
    if not ids and token_file is None and actor is None and ip is None:
        raise fail("give a credential id, --token-file, --actor or --ip", 2)
    token = read_token(token_file) if token_file is not None else None
    result = case.trace(*(ids or []), token=token, leaked_at=leaked_at, actor=actor, ip=ip)
    del token
    if must_find:
        found(result, case)
    return result


def found(result: Trace, case: Case) -> None:
    """NotFound (exit 3) when no event references what was traced."""
    if not result.found:
        raise NotFound(f"no event in {case.path} references {', '.join(result.query)}")


@app.command()
def trace(
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="Credential ids, kind:value (a bare AKIA/ASIA key id works)."),
    ] = None,
    token_file: TokenFile = None,
    actor: Actor = None,
    ip: Ip = None,
    leaked_at: LeakedAt = None,
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
) -> None:
    """Everything derived from a credential, every event that touched it, and from where.

    With nothing found, json prints the document with empty lists and csv the header,
    and the exit status is 3.

    Example: ir trace aws_access_key:AKIAIOSFODNN7EXAMPLE --format json
    Example: ir trace --token-file leaked_token.txt
    Example: ir trace --ip 203.0.113.0/24
    """
    check_format(fmt)
    with opened(case, read_only=True) as opened_case:
        result = traced(opened_case, ids, token_file, leaked_at, fmt == "table", actor=actor, ip=ip)
        if fmt == "json":
            document = result.to_json()
            if not result.found:  # nothing in the case: not even the root's row
                document = {
                    k: [] if k != "query" and isinstance(v, list) else v
                    for k, v in document.items()
                }
            sys.stdout.write(render.to_json(document) + "\n")
        elif fmt == "csv":
            sys.stdout.write(render.frame_text(result.events, "csv"))
        found(result, opened_case)
    if fmt == "table":
        _show_trace(result)


def _show_trace(result: Trace) -> None:
    from ir import coverage as coverages

    stdout.print(Text(render.printable(f"trace of {', '.join(result.query)}"), style="bold"))
    stdout.print(
        Text(
            render.printable(f"exposure {exposure_text(result)}"),
            style="yellow" if result.leaked_at_assumed else "",
        )
    )
    if not result.ancestors.empty:
        stdout.print(
            render.table(
                result.ancestors[ANCESTOR_COLUMNS].rename(columns=ANCESTOR_HEADINGS),
                "issued by (ancestors: context, not traced)",
            )
        )
    stdout.print(render.lineage_tree(result.credentials, result.root, TOP_CREDENTIALS))
    blind = coverages.blind_spots(result.coverage)
    if not blind.empty:
        stdout.print(
            render.table(
                blind.drop(columns="span"),
                "blind spots: logs that could show these credentials' use do not cover their life",
            )
        )
    places = result.places.drop(columns=["credentials", "tenant"])
    places = places.sort_values("new", ascending=False, kind="stable")  # new ones first
    stdout.print(
        render.highlighted_table(
            places.head(TOP_PLACES),
            _shown("places, new first (new: not seen before exposure)", TOP_PLACES, len(places)),
            "new",
            "bold red",
        )
    )
    import pandas as pd

    events = result.events.assign(note=_event_notes(result.events))
    # What a responder reads first: flagged uses and uses from new places, in time order.
    telling = events["note"].astype(bool) | events["new_place"].astype(bool)
    ranked = pd.concat([events[telling], events[~telling]]).head(TOP_EVENTS).sort_index()
    columns = ["time", "source", "action", "credential", "relation", "outcome", "client_ip", "note"]
    stdout.print(
        render.highlighted_table(
            ranked[columns],
            _shown(
                "events from new places or flagged first (red: used after its or a parent's"
                " revocation, or after expiry)",
                TOP_EVENTS,
                len(events),
            ),
            "note",
            "bold red",
        )
    )
    if len(places) > TOP_PLACES or len(events) > TOP_EVENTS or _cut(result.credentials):
        stderr.print("the table shows the top rows of each part; --format json or csv for all")


def _shown(title: str, top: int, total: int) -> str:
    return title if total <= top else f"{title}: {top} of {total:,}"


def _cut(credentials: pd.DataFrame) -> bool:
    """Whether the tree leaves credentials out (more children under one parent than it shows)."""
    return bool((credentials["parent"].value_counts() > TOP_CREDENTIALS).any())


def exposure_text(result: Trace) -> str:
    """The exposure time and, when it was assumed, how (and how to set it)."""
    when = render.iso(result.leaked_at) or "unknown"
    if not result.leaked_at_assumed:
        return f"{when} (given)"
    return f"{when} ({result.exposure_basis}; set it with --leaked-at)"


def _event_notes(events: pd.DataFrame) -> list[str]:
    notes = []
    for late, orphan, expired in zip(
        events["after_revocation"],
        events["after_ancestor_revocation"],
        events["after_expiry"],
        strict=True,
    ):
        said = ["used after revocation"] if late else []
        said += ["outlived a revoked parent"] if orphan and not late else []
        said += ["used after expiry"] if expired else []
        notes.append(", ".join(said))
    return notes


@app.command()
def timeline(
    root: Annotated[
        list[str] | None,
        typer.Option("--root", help="Trace this credential id (repeatable); default: whole case."),
    ] = None,
    token_file: TokenFile = None,
    actor: Actor = None,
    ip: Ip = None,
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
    Example: ir timeline --ip 203.0.113.0/24 --format jsonl --out attacker.jsonl
    Example: ir timeline --since 2026-09-04 --until 2026-09-05 --format jsonl --out case.jsonl
    """
    from ir import report as reports
    from ir import timeline as timelines

    check_format(fmt, (*timelines.FORMATS, *reports.FORMATS))
    traced_ = bool(root) or token_file is not None or actor is not None or ip is not None
    if fmt in reports.FORMATS and not traced_:
        raise fail(
            f"--format {fmt} is the breach report of a trace: give --root, --token-file,"
            " --actor or --ip",
            2,
        )
    with opened(case, read_only=True) as opened_case:
        if not traced_:  # the whole case: streamed from it, never held in memory
            rows = timelines.of_case(opened_case.connection, since, until)
            with output(out) as handle:
                rows.write(handle, fmt, raw=raw)
            return
        result = traced(opened_case, root, token_file, leaked_at, actor=actor, ip=ip)
        touched = result.impact() if fmt in reports.FORMATS else None
    with output(out) as handle:
        if touched is not None:
            handle.write(reports.render_text(result, fmt, result.containment, touched))
        else:
            timelines.of_trace(result, since, until).write(handle, fmt, raw=raw)
