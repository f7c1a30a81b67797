"""Microsoft's export shapes, shared by the Entra sign-in, Entra audit and Graph activity parsers.

The same record comes as a Graph API object (camelCase), an Azure Monitor export
(the object under `properties.*`) or a Log Analytics row (PascalCase columns, as
JSON or as the portal's CSV export, where datetime columns are renamed `<Column>
[UTC]` with US-format values and dynamic columns are JSON text). JSON keys are
matched case-sensitively, and the (case-insensitive) struct cannot hold PascalCase
beside camelCase, so Log Analytics columns are read by exact path, a parse of the
whole record each; only rows the parser's `log_analytics` condition picks pay for it.
"""

from __future__ import annotations

from ir import sql

PORTAL_TIME_FORMATS = ("%m/%d/%Y, %I:%M:%S.%g %p", "%m/%d/%Y, %I:%M:%S %p")
# Entra sign-in and audit rows: neither Graph's top-level `id` nor Azure Monitor's
# `properties`. Graph activity rows have no top-level `id`; that parser passes its own.
LOG_ANALYTICS = "(r.properties IS NULL AND r.id IS NULL)"


def raw(path: str) -> str:
    """A vendor field by exact (case-sensitive) dotted path, for names the struct cannot hold."""
    return f"ir_blank(json_extract_string(vendor_record, {sql.json_path_literal(path.split('.'))}))"


def column(name: str, log_analytics: str = LOG_ANALYTICS) -> str:
    """A Log Analytics column (NULL for Graph and Azure Monitor records)."""
    return f"CASE WHEN {log_analytics} THEN {raw(name)} END"


def _column_text(name: str) -> str:
    return f"json_extract_string(vendor_record, {sql.json_path_literal([name])})"


def dynamic(name: str, path: str) -> str:
    """A field inside a Log Analytics dynamic column, stored as an object or as JSON text."""
    text = _column_text(name)
    inside = f"json_extract_string({text}, {sql.json_path_literal(path.split('.'))})"
    return (
        f"CASE WHEN {LOG_ANALYTICS} THEN"
        f" ir_blank(CASE WHEN json_valid({text}) THEN {inside} END) END"
    )


def dynamic_json(name: str) -> str:
    """A Log Analytics dynamic column as JSON text (NULL when absent or not JSON)."""
    text = _column_text(name)
    return f"CASE WHEN {LOG_ANALYTICS} AND json_valid({text}) THEN {text} END"


def portal_time(name: str, log_analytics: str = LOG_ANALYTICS) -> str:
    """A Log Analytics portal CSV datetime (`<Column> [UTC]`, US format, UTC)."""
    value = _column_text(f"{name} [UTC]")
    formats = f"[{sql.literals(PORTAL_TIME_FORMATS)}]"
    return (
        f"CASE WHEN {log_analytics} THEN"
        f" CAST(try_strptime(trim({value}), {formats}) AS TIMESTAMPTZ) END"
    )


def log_time(*columns: str, log_analytics: str = LOG_ANALYTICS) -> str:
    """The first of Log Analytics datetime columns, as JSON or as portal CSV."""
    parts = [f"ir_time({column(c, log_analytics)})" for c in columns]
    parts += [portal_time(c, log_analytics) for c in columns]
    return ", ".join(parts)


def field(path: str, name: str) -> str:
    """Graph / Azure Monitor `properties.<path>` (camelCase), else the Log Analytics column."""
    return f"coalesce(ir_blank(r.properties.{path}), ir_blank(r.{path}), {column(name)})"
