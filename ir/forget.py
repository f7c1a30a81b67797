"""Taking an evidence file back out of the case: `ir forget FILE`, and the first half of
`ir ingest --force FILE` (re-map a file read with the wrong `--source` or mapping); and
keeping the files ingest could not load named in the case (`keep_unloaded`).

A file's rows are every row of every table keyed by its `file_id` or by the `event_key`
of its events (events, credential refs, resources, hours, rejects, and any such table
added later: they are found by their columns), its `evidence_files` row, and its
`unloaded_files` row when it never loaded. Each removal is journaled (kind `case`) in
the same transaction, so the journal says what left the case, when and why. Forgetting
a file again is no error: the journal says when it left.

Events of this file that later files of the same source delivered again were counted
there as duplicates, not loaded: they leave with this file. `Removed.redelivered_by`
names those files (`ir ingest --force` them to load their copies).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from ir import sql
from ir.errors import NotFound
from ir.formats import sha256_file
from ir.store import Store

JOURNAL_KIND = "case"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Tables holding rows of events or files, found by their columns (the case's own tables).
_KEYED_SQL = """
SELECT table_name, list(column_name ORDER BY column_name) FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = 'main'
  AND column_name IN ('event_key', 'file_id')
GROUP BY table_name ORDER BY table_name
"""
_JOURNAL_SQL = """
INSERT INTO journal (time, kind, ref, request, status, detail, action, target)
VALUES (?, ?, ?, ?, 'done', ?, ?, ?)
"""
_FILES_SQL = "SELECT file_id, path, sha256, source FROM evidence_files WHERE file_id = ?"
_LATER_DUPLICATES_SQL = """
SELECT path FROM evidence_files WHERE source = ? AND file_id > ? AND duplicates > 0
ORDER BY file_id
"""
# Named by path (as ingested), by a folder the path lies under, or by content.
_NAMED = """
(path IN (SELECT unnest($paths::VARCHAR[])) OR sha256 IN (SELECT unnest($hashes::VARCHAR[]))
 OR EXISTS (SELECT 1 FROM unnest($paths::VARCHAR[]) AS folder(p) WHERE starts_with(path, p || '/')))
"""
_UNLOADED_COLUMNS = ("path", "sha256", "source", "reason")
FORGET = "forget"
REINGEST = "reingest"


@dataclass
class Removed:
    """One file taken out of the case: what it was, and how many rows of each table left."""

    path: str
    sha256: str
    source: str | None
    rows: dict[str, int] = field(default_factory=dict)
    redelivered_by: list[str] = field(default_factory=list)
    already: str | None = None  # when an earlier `forget` removed it (nothing left to do)

    def summary(self) -> str:
        """`12 events, 30 credential_refs, 1 rejects`: events first, tables with rows only."""
        tables = sorted(self.rows, key=lambda table: (table != "events", table))
        counts = [f"{self.rows[table]:,} {table}" for table in tables if self.rows[table]]
        return ", ".join(counts) or "no rows"


def remove(
    connection: duckdb.DuckDBPyConnection, file_id: int, action: str, request: str
) -> Removed:
    """Delete one evidence file's rows from every table and journal it (`action` forget or
    reingest, `request` the command), inside the caller's transaction: ingest --force loads
    the new mapping in the same one."""
    ((_, path, sha256, source),) = connection.execute(_FILES_SQL, [file_id]).fetchall()
    later = connection.execute(_LATER_DUPLICATES_SQL, [source, file_id]).fetchall()
    removed = Removed(path, sha256, source, redelivered_by=[row[0] for row in later])
    event_tables, file_tables = _keyed_tables(connection)
    events = "SELECT event_key FROM events WHERE file_id = ?"
    for table in event_tables:
        removed.rows[table] = _deleted(
            connection,
            f"DELETE FROM {sql.identifier(table)} WHERE event_key IN ({events})",
            file_id,
        )
    for table in file_tables:
        removed.rows[table] = _deleted(
            connection, f"DELETE FROM {sql.identifier(table)} WHERE file_id = ?", file_id
        )
    connection.execute("DELETE FROM evidence_files WHERE file_id = ?", [file_id])
    journal(connection, action, path, sha256, request, f"removed {removed.summary()} ({source})")
    return removed


def forget(
    store: Store,
    targets: Iterable[str],
    after: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> list[Removed]:
    """Forget evidence files named by path (as ingested, or a file whose content was
    ingested), folder (every file ingested from under it) or SHA-256, in one transaction;
    `after` then runs on the case when something left it (the facade refreshes coverage).
    NotFound when a target names nothing the case holds or has held."""
    connection = store.connection
    removed: list[Removed] = []
    connection.execute("BEGIN TRANSACTION")
    try:
        for target in targets:
            removed += _forget_one(connection, target)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    if after is not None and any(r.already is None for r in removed):
        after(connection)
    return removed


def keep_unloaded(
    connection: duckdb.DuckDBPyConnection,
    tried: list[str],
    failed: list[tuple[str, str, str | None, str]],
) -> None:
    """After an ingest: the files it read (`tried`, by SHA-256) and those it could not load
    (path, SHA-256, source or None, reason). A file not loaded stays named in the case
    (`unloaded_files`, one row per content) for `ir stats` and `ir rejects`; one loaded
    since (with --source or --mappings) leaves it."""
    if not tried:
        return
    rows = [dict(zip(_UNLOADED_COLUMNS, row, strict=True)) for row in failed]
    schema = pa.schema([(name, pa.string()) for name in _UNLOADED_COLUMNS])
    connection.register("ir_unloaded", pa.Table.from_pylist(rows, schema=schema))
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(
            "DELETE FROM unloaded_files WHERE sha256 IN (SELECT unnest(?::VARCHAR[]))", [tried]
        )
        connection.execute(
            """
            INSERT INTO unloaded_files
            SELECT path, sha256, source, reason, now() FROM ir_unloaded
            WHERE sha256 NOT IN (SELECT sha256 FROM evidence_files)
            """
        )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    finally:
        connection.unregister("ir_unloaded")


def journal(
    connection: duckdb.DuckDBPyConnection,
    action: str,
    path: str,
    sha256: str,
    request: str,
    detail: str,
) -> None:
    """One `case` entry: `action` forget or reingest, `request` the command as run."""
    now = datetime.now(timezone.utc)
    connection.execute(
        _JOURNAL_SQL, [now, JOURNAL_KIND, path, request, detail, action, f"sha256:{sha256}"]
    )


def _forget_one(connection: duckdb.DuckDBPyConnection, target: str) -> list[Removed]:
    paths, hashes = _named(target)
    named = {"paths": paths, "hashes": hashes}
    ids = connection.execute(
        f"SELECT file_id FROM evidence_files WHERE {_NAMED} ORDER BY file_id", named
    ).fetchall()
    removed = [remove(connection, file_id, FORGET, "ir forget") for (file_id,) in ids]
    unloaded = connection.execute(
        f"DELETE FROM unloaded_files WHERE {_NAMED} RETURNING path, sha256, source", named
    ).fetchall()
    for path, sha256, source in unloaded:
        removed.append(Removed(path, sha256, source, {"unloaded_files": 1}))
        journal(connection, FORGET, path, sha256, "ir forget", "removed a file never loaded")
    if removed:
        return removed
    return [_already(connection, target, paths, hashes)]


def _named(target: str) -> tuple[list[str], list[str]]:
    """The paths (as given and absolute) and content hashes a target can name."""
    text = target.strip()
    if _SHA256.match(text.lower()):
        return [], [text.lower()]
    path = Path(text).absolute()
    paths = [str(path).rstrip("/") or "/"]
    hashes = [sha256_file(path)[0]] if path.is_file() else []
    return paths, hashes


def _already(
    connection: duckdb.DuckDBPyConnection, target: str, paths: list[str], hashes: list[str]
) -> Removed:
    """The journal's earlier `forget` of this target; NotFound when there is none."""
    targets = [f"sha256:{h}" for h in hashes]
    rows = connection.execute(
        """
        SELECT ref, target, time FROM journal
        WHERE kind = $kind AND action = $action
          AND (ref IN (SELECT unnest($paths::VARCHAR[]))
               OR target IN (SELECT unnest($targets::VARCHAR[]))
               OR EXISTS (SELECT 1 FROM unnest($paths::VARCHAR[]) AS folder(p)
                          WHERE starts_with(ref, p || '/')))
        ORDER BY time DESC LIMIT 1
        """,
        {"kind": JOURNAL_KIND, "action": FORGET, "paths": paths, "targets": targets},
    ).fetchall()
    if not rows:
        raise NotFound(f"{target}: no evidence file in the case has that path or content")
    ((path, sha256, when),) = rows
    return Removed(path, sha256.removeprefix("sha256:"), None, already=f"{when:%Y-%m-%dT%H:%M:%SZ}")


def _keyed_tables(connection: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """(tables keyed by event_key but events, tables keyed by file_id but evidence_files):
    the first are emptied before events, whose keys they are found by."""
    by_event, by_file = [], []
    for table, columns in connection.execute(_KEYED_SQL).fetchall():
        if table == "evidence_files":
            continue
        if "event_key" in columns and table != "events":
            by_event.append(table)
        elif "file_id" in columns:
            by_file.append(table)
    return by_event, by_file


def _deleted(connection: duckdb.DuckDBPyConnection, statement: str, file_id: int) -> int:
    ((count,),) = connection.execute(statement, [file_id]).fetchall()
    return int(count)
