"""What the case holds: per-source stats, known sources, credential kinds and resource types
with their counts, rejects.

The CLI's `stats`, `sources`, `kinds` and `rejects` and the notebook's `case.stats()`
etc. are the same queries, here once.
"""

from __future__ import annotations

import importlib

import duckdb
import pandas as pd
import pyarrow as pa

from ir.formats import CUT_SHORT
from parsers import registry

# Per source of its evidence files (a file none of whose records loaded counts too), and
# `unrecognised` for the files no source matched (`unloaded_files`, ir/forget.py).
STATS_SQL = """
WITH files AS (
    SELECT source, count(*) AS files, 0 AS not_loaded FROM evidence_files GROUP BY source
    UNION ALL
    SELECT coalesce(source, 'unrecognised'), 0, count(*) FROM unloaded_files GROUP BY 1
),
per_source AS (
    SELECT source, sum(files) AS files, sum(not_loaded) AS files_not_loaded
    FROM files GROUP BY source
),
events_of AS (
    SELECT source, count(*) AS events, min(time) AS first_event, max(time) AS last_event
    FROM events GROUP BY source
),
credentials_of AS (
    SELECT e.source, count(DISTINCT c.credential) AS credentials
    FROM credential_refs c JOIN events e USING (event_key) GROUP BY e.source
),
rejects_of AS (
    SELECT source, count(*) AS rejected,
           count(DISTINCT file_id) FILTER (WHERE starts_with(reason, $cut_short)) AS cut_short
    FROM rejects GROUP BY source
)
SELECT p.source, p.files::BIGINT AS files, coalesce(e.events, 0) AS events,
       coalesce(c.credentials, 0) AS credentials, coalesce(r.rejected, 0) AS rejected,
       coalesce(r.cut_short, 0) AS files_cut_short, p.files_not_loaded::BIGINT AS files_not_loaded,
       e.first_event, e.last_event
FROM per_source p
LEFT JOIN events_of e USING (source)
LEFT JOIN credentials_of c USING (source)
LEFT JOIN rejects_of r USING (source)
ORDER BY p.source = 'unrecognised', p.source
"""
TOTALS_SQL = """
SELECT count(*) AS files, coalesce(sum(loaded), 0) AS events,
       coalesce(sum(duplicates), 0) AS duplicates, coalesce(sum(rejected), 0) AS rejected,
       (SELECT count(DISTINCT credential) FROM credential_refs) AS credentials
FROM evidence_files
"""
# A file that could not be loaded at all is one row without a record number.
REJECTS_SQL = """
SELECT f.path AS file, r.record_no, r.source, r.reason FROM rejects r
JOIN evidence_files f USING (file_id)
UNION ALL
SELECT path, NULL, source, reason FROM unloaded_files
ORDER BY file, record_no NULLS FIRST
"""


def stats(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per source: files, events, credentials, rejects, files cut short, files not loaded
    (`unrecognised`: no source matched them), time span."""
    return connection.execute(STATS_SQL, {"cut_short": CUT_SHORT}).fetchdf()


def totals(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The whole case in five numbers: files, events, duplicates, rejected, credentials."""
    names = ["files", "events", "duplicates", "rejected", "credentials"]
    row = connection.execute(TOTALS_SQL).fetchone() or (0,) * len(names)
    return {name: int(value) for name, value in zip(names, row, strict=True)}


def rejects(connection: duckdb.DuckDBPyConnection, limit: int = 0) -> pd.DataFrame:
    """Records that could not be loaded, with file, record number and reason (limit 0: all)."""
    if limit > 0:
        return connection.execute(f"{REJECTS_SQL} LIMIT ?", [limit]).fetchdf()
    return connection.execute(REJECTS_SQL).fetchdf()


def sources(connection: duckdb.DuckDBPyConnection | None) -> pd.DataFrame:
    """Known log sources in detection order, with the files and events the case holds of each
    (no connection: a case that does not exist yet holds none)."""
    counts = _counts(
        connection,
        "SELECT source, count(*), sum(loaded) FROM evidence_files GROUP BY source",
    )
    rows = [
        {
            "source": name,
            "files": counts.get(name, (0, 0))[0],
            "events": counts.get(name, (0, 0))[1],
            "what": _module_summary(name),
        }
        for name in registry.SOURCES
    ]
    return pd.DataFrame(rows, columns=["source", "files", "events", "what"])


def kinds(connection: duckdb.DuckDBPyConnection | None) -> pd.DataFrame:
    """Credential kinds ir knows (contract §1) and those its sources declare (the user's
    mappings included), with how many of each the case holds."""
    counts = _counts(
        connection,
        "SELECT kind, count(DISTINCT credential), count(*) FROM credential_refs GROUP BY kind",
    )
    rows = [
        {
            "kind": kind.name,
            "vendor": kind.vendor,
            "value": kind.value,
            "credentials": counts.get(kind.name, (0, 0))[0],
            "references": counts.get(kind.name, (0, 0))[1],
        }
        for kind in registry.kinds()
    ]
    return pd.DataFrame(rows, columns=["kind", "vendor", "value", "credentials", "references"])


def resource_types(connection: duckdb.DuckDBPyConnection | None) -> pd.DataFrame:
    """The resource types each source emits (contract §9, `Parser.resources`; the user's
    mappings included), with how many distinct resources and references the case holds."""
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    if connection is not None:
        rows = connection.execute(
            "SELECT e.source, r.type, count(DISTINCT r.id), count(*) FROM event_resources r"
            " JOIN events e USING (event_key) GROUP BY ALL"
        ).fetchall()
        counts = {(source, type_): (int(n), int(m)) for source, type_, n, m in rows}
    frame = pd.DataFrame(
        [
            {
                "source": parser.name,
                "type": type_,
                "resources": counts.get((parser.name, type_), (0, 0))[0],
                "references": counts.get((parser.name, type_), (0, 0))[1],
            }
            for parser in registry.load().parsers
            for type_ in parser.resource_types
        ],
        columns=["source", "type", "resources", "references"],
    )
    return frame


def _counts(connection: duckdb.DuckDBPyConnection | None, query: str) -> dict[str, tuple[int, int]]:
    if connection is None:
        return {}
    return {
        str(name): (int(first), int(second or 0))
        for name, first, second in connection.execute(query).fetchall()
    }


def _module_summary(name: str) -> str:
    doc = (importlib.import_module(f"parsers.{name}").__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def head(connection: duckdb.DuckDBPyConnection, query: str, limit: int) -> tuple[pd.DataFrame, int]:
    """The first `limit` rows of a query and how many rows it gives in all, counted as
    they stream past: a screenful of `SELECT * FROM events`, not every row in memory."""
    relation = connection.sql(query)
    if relation is None:  # a statement that returns no rows
        return pd.DataFrame(), 0
    reader = relation.to_arrow_reader(limit)
    kept: list[pa.RecordBatch] = []
    total = 0
    for batch in reader:
        if total < limit:
            kept.append(batch)
        total += batch.num_rows
    table = pa.Table.from_batches(kept, schema=reader.schema).slice(0, limit)
    return table.to_pandas(), total
