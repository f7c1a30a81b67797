"""DataFrames and records -> table / JSON / CSV text. Shared by the CLI and exports.

Times leave as ISO 8601 UTC with `Z`; NaN/NaT leave as null, never "nan".
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson
import pandas as pd
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

FORMATS = ("table", "json", "csv")


def iso(value: Any) -> str | None:
    """A timestamp as ISO 8601 UTC with `Z` (milliseconds kept when present)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    stamp = stamp.tz_convert("UTC")
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if stamp.microsecond:
        text += f".{stamp.microsecond // 1000:03d}"
    return text + "Z"


def plain(value: Any) -> Any:
    """A cell as a JSON-ready Python value."""
    if isinstance(value, (pd.Timestamp, datetime)):
        return iso(value)
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def to_json(data: Any) -> str:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def to_csv(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _csv_cell(row.get(c)) for c in columns})
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return "" if value is None else value


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
        return "\n".join(str(v) for v in value)
    return str(value)


def frame_text(frame: pd.DataFrame, fmt: str) -> str:
    """JSON or CSV text of a DataFrame (table rendering needs a console: see `table`)."""
    rows = records(frame)
    if fmt == "json":
        return to_json(rows)
    return to_csv(rows, [str(c) for c in frame.columns])


def lineage_tree(credentials: pd.DataFrame, root: str) -> Tree:
    """The traced lineage as a tree: each credential under the one that issued it."""
    rows = {row["id"]: row for row in records(credentials)}
    children: dict[str | None, list[str]] = {}
    for credential, row in rows.items():
        children.setdefault(row["parent"], []).append(credential)
    tree = Tree(_node_label(rows[root]) if root in rows else Text(root))

    def grow(branch: Tree, credential: str, seen: set[str]) -> None:
        for child in children.get(credential, []):
            if child in seen:
                continue
            grow(branch.add(_node_label(rows[child])), child, seen | {child})

    grow(tree, root, {root})
    for orphan_root in children.get(None, []):
        if orphan_root != root:
            grow(tree.add(_node_label(rows[orphan_root])), orphan_root, {orphan_root})
    return tree


def _node_label(row: Mapping[str, Any]) -> Text:
    label = Text()
    if row.get("relation_to_parent"):
        label.append(f"{row['relation_to_parent']} → ", style="dim")
    label.append(str(row["id"]), style="bold")
    if row.get("principal"):
        label.append(f"  {row['principal']}", style="cyan")
    label.append(f"  {row['events']} events, {row['first_seen']} … {row['last_seen']}", style="dim")
    if row.get("revoked_at"):
        label.append(f"  revoked {row['revoked_at']}", style="green")
    else:
        label.append("  never revoked", style="yellow")
    return label


def highlighted_table(frame: pd.DataFrame, title: str, flag: str, style: str) -> Table:
    """A table whose rows with a true `flag` column stand out (post-revocation use, new places)."""
    output = table(frame, title)
    flags = frame[flag].fillna(False).astype(bool).tolist() if flag in frame else []
    for index, marked in enumerate(flags):
        if marked:
            output.rows[index].style = style
    return output
