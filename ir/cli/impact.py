"""What a traced credential could do and touched: `impact` (contract §9)."""

from __future__ import annotations

import sys
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
    opened,
    stderr,
    stdout,
)
from ir.cli.trace import found, traced

if TYPE_CHECKING:
    from ir.impact import Impact

TOP_RESOURCES = 40  # the table shows the top of each part; json and csv hold everything
TOP_SENSITIVE = 40
RESOURCE_COLUMNS = ["type", "id", "name", "access", "actions", "events", "last_seen", "source"]
SENSITIVE_COLUMNS = ["time", "category", "technique", "action", "target", "outcome", "source"]


@app.command()
def impact(
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="Credential ids, kind:value, as `ir trace` takes them."),
    ] = None,
    token_file: TokenFile = None,
    leaked_at: LeakedAt = None,
    case: CasePath = DEFAULT_CASE,
    fmt: Format = "table",
) -> None:
    """What the traced credentials could do and what they touched: resources, scopes and
    sensitive actions (persistence, privilege, credential access, evasion, discovery,
    exfiltration), over the same lineage as `ir trace`.

    With nothing found, json prints the document with empty lists and csv the header,
    and the exit status is 3. csv writes the resources.

    Example: ir impact --token-file leaked_token.txt
    Example: ir impact okta_session:102hZRgCcFl742wO50iahAImd --format json
    """
    check_format(fmt)
    with opened(case, read_only=True) as opened_case:
        result = traced(opened_case, ids, token_file, leaked_at, fmt == "table")
        answer = result.impact()
        if fmt == "json":
            sys.stdout.write(render.to_json(answer.to_json()) + "\n")
        elif fmt == "csv":
            sys.stdout.write(render.frame_text(answer.resources, "csv"))
        found(result, opened_case)
    if fmt == "table":
        _show(answer)


def _show(answer: Impact) -> None:
    stdout.print(Text(render.printable(f"impact of {', '.join(answer.query)}"), style="bold"))
    resources = answer.resources
    stdout.print(
        render.highlighted_table(
            resources[[*RESOURCE_COLUMNS, "from_new_place"]].head(TOP_RESOURCES),
            _title("resources touched, from new places first", TOP_RESOURCES, len(resources)),
            "from_new_place",
            "bold red",
        )
    )
    if not answer.scopes.empty:
        stdout.print(
            render.table(answer.scopes, "scopes the traced credentials carried, as logged")
        )
    sensitive = answer.sensitive
    stdout.print(
        render.highlighted_table(
            sensitive[[*SENSITIVE_COLUMNS, "from_new_place"]].head(TOP_SENSITIVE),
            _title(
                "sensitive actions (red: from a new place); the technique is MITRE ATT&CK's",
                TOP_SENSITIVE,
                len(sensitive),
            ),
            "from_new_place",
            "bold red",
        )
    )
    if len(resources) > TOP_RESOURCES or len(sensitive) > TOP_SENSITIVE:
        stderr.print("the table shows the top rows of each part; --format json or csv for all")


def _title(title: str, top: int, total: int) -> str:
    return f"{title}: {total:,}" if total <= top else f"{title}: {top} of {total:,}"
