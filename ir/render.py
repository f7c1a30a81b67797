"""DataFrames and records -> table / JSON / CSV text. Shared by the CLI and exports.

Times leave as ISO 8601 UTC with `Z`; NaN/NaT leave as null, never "nan". Every
cell may come from a log an attacker wrote: CSV cells a spreadsheet would run
as a formula are neutralised (unless raw), and text bound for a terminal shows
control characters and bidirectional overrides as escapes instead of obeying them.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("table", "json", "csv")
# OWASP "CSV injection": a cell starting with one of these is a formula to Excel/LibreOffice/Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# C0/C1 controls (ANSI escapes, CR, BEL, BS), zero-width and bidirectional marks (Trojan Source).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_JSON_UNPRINTABLE = re.compile(
    "[\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]"
)  # JSON escapes C0


def iso(value: Any) -> str | None:
    """A timestamp as ISO 8601 UTC with `Z` (milliseconds kept when present)."""
    import pandas as pd  # loaded already wherever a timestamp comes from; not at start-up

    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    stamp = stamp.tz_convert("UTC")
    text = str(stamp.strftime("%Y-%m-%dT%H:%M:%S"))
    if stamp.microsecond:
        text += f".{stamp.microsecond // 1000:03d}"
    return text + "Z"


def plain(value: Any) -> Any:
    """A cell as a JSON-ready Python value."""
    if isinstance(value, datetime):  # pandas' Timestamp and NaT are datetimes
        return iso(value)
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts, column by column: a time column is written as text in one
    vectorised pass (a 26k-event trace spent seconds on one Timestamp at a time)."""
    names = [str(c) for c in frame.columns]
    columns = [_plain_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _plain_column(column: pd.Series) -> list[Any]:
    """A column's cells as `plain` makes them; times as `iso` writes them."""
    import pandas as pd

    if column.dtype == object:  # anything, times and lists included: one cell at a time
        return [plain(value) for value in column.tolist()]
    if not isinstance(column.dtype, pd.DatetimeTZDtype) and column.dtype.kind != "M":
        return list(column.astype(object).where(column.notna(), None).tolist())
    stamps = column.dt.tz_localize("UTC") if column.dt.tz is None else column.dt.tz_convert("UTC")
    millis = (stamps.dt.microsecond // 1000).fillna(0).astype("int64")
    text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S") + (
        ("." + millis.astype(str).str.zfill(3)).where(stamps.dt.microsecond != 0, "")
    )
    return [
        None if missing else f"{value}Z" for value, missing in zip(text, stamps.isna(), strict=True)
    ]


def to_json(data: Any) -> str:
    return json_safe(
        orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    )


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def indent_json(text: str, step: int = 2) -> str:
    """Valid JSON text re-indented token by token: numbers stay exactly as logged (no
    float or 64-bit limits) and any depth works (no recursion; indentation stops
    deepening after 64 levels, so hostile nesting cannot blow the output up)."""
    tokens = _JSON_TOKEN.findall(text)
    out: list[str] = []
    depth = 0

    def newline() -> str:
        return "\n" + " " * step * min(depth, 64)

    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        previous = tokens[index - 1] if index else ""
        if token in ("{", "[") and following not in ("}", "]"):
            depth += 1
            out.append(token + newline())
        elif token in ("}", "]") and previous not in ("{", "["):
            depth -= 1
            out.append(newline() + token)
        elif token == ",":
            out.append("," + newline())
        elif token == ":":
            out.append(": ")
        else:
            out.append(token)
    return "".join(out)


def json_safe(text: str) -> str:
    """JSON text with the characters a terminal would act on (C1 controls, DEL, bidi and
    zero-width marks; JSON already escapes C0) written as \\uXXXX: the same JSON value."""
    return _JSON_UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def to_csv(rows: Iterable[Mapping[str, Any]], columns: list[str], raw: bool = False) -> str:
    """CSV text. Formula cells are neutralised unless `raw`; rows end in CRLF (RFC 4180),
    which also makes the csv module quote a bare CR inside a cell, that would otherwise
    start a row a log line forged."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n"
    )
    writer.writeheader()
    for row in rows:
        cells = {c: _csv_cell(row.get(c)) for c in columns}
        writer.writerow(cells if raw else {c: neutralise(v) for c, v in cells.items()})
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return "" if value is None else value


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would evaluate, made inert with a leading quote (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def printable(text: str) -> str:
    """Log text made safe for a terminal: control characters (an ANSI escape that clears
    the screen, a CR that overwrites a line) and bidirectional overrides are shown as
    escapes such as \\x1b or \\u202e, never acted on."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def table(frame: pd.DataFrame, title: str | None = None) -> Table:
    """A rich table of a DataFrame, cells as plain text (markup in log data is not rendered)."""
    output = Table(title=title, show_lines=False, header_style="bold")
    for column in frame.columns:
        output.add_column(str(column), overflow="fold")
    for row in records(frame):
        output.add_row(*(Text(_cell_text(v)) for v in row.values()))
    return output


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\n".join(printable(str(v)) for v in value)
    return printable(str(value))


def frame_text(frame: pd.DataFrame, fmt: str, raw: bool = False) -> str:
    """JSON or CSV text of a DataFrame (table rendering needs a console: see `table`);
    `raw` keeps CSV formula cells as they are."""
    rows = records(frame)
    if fmt == "json":
        return to_json(rows)
    return to_csv(rows, [str(c) for c in frame.columns], raw=raw)


def lineage_tree(credentials: pd.DataFrame, root: str, top: int | None = None) -> Tree:
    """The traced lineage as a tree: each credential under the one that issued it, each
    traced root (no parent in the trace) a lineage of its own, `root` first; at most
    `top` children under one parent, then how many more."""
    rows = {row["id"]: row for row in records(credentials)}
    children: dict[str | None, list[str]] = {}
    for credential, row in rows.items():
        children.setdefault(row["parent"], []).append(credential)
    tops = [c for c in dict.fromkeys([root, *children.get(None, [])]) if c in rows]
    tops = [c for c in tops if rows[c]["parent"] is None]

    def grow(branch: Tree, credential: str, seen: set[str]) -> None:
        below = [c for c in children.get(credential, []) if c not in seen]
        for child in below[:top]:
            grow(branch.add(_node_label(rows[child])), child, seen | {child})
        if top is not None and len(below) > top:
            branch.add(Text(f"… {len(below) - top} more", style="dim"))

    if len(tops) == 1:
        tree = Tree(_node_label(rows[tops[0]]))
        grow(tree, tops[0], {tops[0]})
        return tree
    tree = Tree(Text(f"{len(tops)} traced lineages", style="bold"))
    for start in tops:
        grow(tree.add(_node_label(rows[start])), start, {start})
    return tree


def _node_label(row: Mapping[str, Any]) -> Text:
    label = Text()
    if row.get("relation_to_parent"):
        label.append(f"{printable(str(row['relation_to_parent']))} → ", style="dim")
    label.append(printable(str(row["id"])), style="bold")
    if row.get("principal"):
        label.append(f"  {printable(str(row['principal']))}", style="cyan")
    label.append(f"  {row['events']} events, {row['first_seen']} … {row['last_seen']}", style="dim")
    if row.get("revoked_at"):
        label.append(f"  revoked {row['revoked_at']}", style="green")
    elif row.get("expired"):
        label.append(f"  expired {row['expires_at']}", style="green")
    else:
        label.append("  never revoked", style="yellow")
    if row.get("revoked_ancestor") and not row.get("revoked_at"):
        label.append(
            f", outlived the revocation of {printable(str(row['revoked_ancestor']))}"
            f" at {row['revoked_ancestor_at']}",
            style="bold red",
        )
    if row.get("expires_at") and not row.get("expired") and not row.get("revoked_at"):
        label.append(f", expires {row['expires_at']}", style="yellow")
    if row.get("blind_after"):
        label.append(f"  blind after {row['blind_after']}", style="bold magenta")
    return label


def highlighted_table(frame: pd.DataFrame, title: str, flag: str, style: str) -> Table:
    """A table whose rows with a true `flag` column stand out (post-revocation use, new places)."""
    output = table(frame, title)
    flags = frame[flag].fillna(False).astype(bool).tolist() if flag in frame else []
    for index, marked in enumerate(flags):
        if marked:
            output.rows[index].style = style
    return output
