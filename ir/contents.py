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

STATS_SQL = """
SELECT e.source, count(DISTINCT e.file_id) AS files, count(*) AS events,
       (SELECT count(DISTINCT c.credential) FROM credential_refs c
          JOIN events x USING (event_key) WHERE x.source = e.source) AS credentials,
       (SELECT count(*) FROM rejects r WHERE r.source = e.source) AS rejected,
       (SELECT count(DISTINCT r.file_id) FROM rejects r
          WHERE r.source = e.source AND starts_with(r.reason, $cut_short))
          AS files_cut_short,
       min(e.time) AS first_event, max(e.time) AS last_event
FROM events e GROUP BY e.source ORDER BY e.source
"""
TOTALS_SQL = """
SELECT count(*) AS files, coalesce(sum(loaded), 0) AS events,
       coalesce(sum(duplicates), 0) AS duplicates, coalesce(sum(rejected), 0) AS rejected,
       (SELECT count(DISTINCT credential) FROM credential_refs) AS credentials
FROM evidence_files
"""
REJECTS_SQL = """
SELECT f.path AS file, r.record_no, r.source, r.reason FROM rejects r
JOIN evidence_files f USING (file_id) ORDER BY f.path, r.record_no
"""


def stats(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per source: files, events, credentials, rejects, files cut short, time span."""
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
