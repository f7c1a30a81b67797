"""The case as Hive-partitioned Parquet, for sharing and for other engines (Spark, Trino, pandas).

Events and credential refs are partitioned by `source` and `date` (UTC day of
the event), so a reader that needs one source or one week reads only those
files; the small tables go whole. Parquet written by DuckDB keeps the types
(TIMESTAMPTZ as UTC timestamps), so nothing is re-parsed downstream.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ir.errors import IrError

PARTITIONED = {
    "events": "SELECT *, strftime(time, '%Y-%m-%d') AS date FROM events",
    "credential_refs": (
        "SELECT c.*, e.source, strftime(e.time, '%Y-%m-%d') AS date"
        " FROM credential_refs c JOIN events e USING (event_key)"
    ),
}
WHOLE = ("evidence_files", "rejects", "event_resources")


class ExportError(IrError):
    """The output folder cannot take the export."""


def export_parquet(connection: duckdb.DuckDBPyConnection, out: Path) -> dict[str, int]:
    """Write every table under `out/<table>/`; returns rows written per table."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: a file, not a folder; export into a new folder")
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"{out}: not empty; export into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for table, query in PARTITIONED.items():
        connection.execute(
            f"COPY ({query}) TO ? (FORMAT parquet, PARTITION_BY (source, date), COMPRESSION zstd)",
            [str(out / table)],
        )
        written[table] = _count(connection, table)
    for table in WHOLE:
        (out / table).mkdir()
        connection.execute(
            f"COPY {table} TO ? (FORMAT parquet, COMPRESSION zstd)",
            [str(out / table / "part-0.parquet")],
        )
        written[table] = _count(connection, table)
    return written


def _count(connection: duckdb.DuckDBPyConnection, table: str) -> int:
    row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
