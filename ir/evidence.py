"""Evidence integrity: the case references the vendor files, it never copies them.

Each ingested file is kept as its path and SHA-256 (`evidence_files`), and each
event as a pointer into it (`file_id`, `record_no`). `verify` re-hashes every
file and names the ones that changed or vanished since ingest; `raw_record`
re-reads one record at its pointer with the same readers ingest used (gz,
NDJSON, arrays, wrapper pages, CSV, the salvage reader for files DuckDB
refuses) and refuses when the file is no longer the one that was ingested, or
the record there no longer hashes to the event's content.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from ir.errors import IrError, NotFound, UsageError
from ir.formats import READ_ERRORS, Layout, reader_sql, salvage, sha256_file
from ir.store import LEGACY_HASH_PREFIX
from parsers import registry
from parsers.base import Parser, register_sql

STATUSES = ("ok", "changed", "missing", "unreadable")
COLUMNS = ["file_id", "path", "source", "status", "sha256", "current_sha256", "bytes"]


class EvidenceError(IrError):
    """An evidence file or record that cannot be shown as it was ingested; says why."""


class UnknownEvent(NotFound):
    """No event (or evidence record) by that name in the case."""


def verify(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per evidence file: `status` ok, changed (another SHA-256), missing or
    unreadable, with the stored and the current SHA-256."""
    files = connection.execute(
        "SELECT file_id, path, source, sha256, bytes FROM evidence_files ORDER BY file_id"
    ).fetchall()
    rows = []
    for file_id, path, source, stored, size in files:
        status, current = _check(Path(path), stored)
        rows.append(
            {
                "file_id": file_id,
                "path": path,
                "source": source,
                "status": status,
                "sha256": stored,
                "current_sha256": current,
                "bytes": size,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def _check(path: Path, stored: str) -> tuple[str, str | None]:
    if not path.exists():
        return "missing", None
    try:
        current, _ = sha256_file(path)
    except OSError:
        return "unreadable", None
    return ("ok" if current == stored else "changed"), current


@dataclass(frozen=True)
class _Pointer:
    file_id: int
    record_no: int
    content_hash: str | None  # None: a pointer given as file#record, not an event


def raw_record(connection: duckdb.DuckDBPyConnection, event: str) -> dict[str, Any]:
    """The vendor record behind `event` as the evidence file holds it (see `raw_text`)."""
    try:
        value = json.loads(raw_text(connection, event))
    except RecursionError:
        raise EvidenceError(
            f"{event}: the record is nested too deeply for Python; `ir show` prints its text"
        ) from None
    return value if isinstance(value, dict) else {"record": value}


def raw_text(connection: duckdb.DuckDBPyConnection, event: str) -> str:
    """The JSON text of the vendor record behind `event`, re-read from its evidence file.

    `event` is `<source>:<source_event_id>`, an `event_key`, or `<file>#<record>` (the
    `evidence` column of a trace or timeline).
    """
    pointer = _resolve(connection, event.strip())
    rows = connection.execute(
        "SELECT path, sha256, source, layout FROM evidence_files WHERE file_id = ?",
        [pointer.file_id],
    ).fetchall()
    if not rows:
        raise EvidenceError(
            f"{event}: its evidence file is not in the case (file {pointer.file_id})"
        )
    path, stored, source, layout = rows[0]
    where = f"{path}#{pointer.record_no}"
    status, current = _check(Path(path), stored)
    if status != "ok":
        detail = f"its SHA-256 is now {current}" if current else status
        raise EvidenceError(
            f"{where}: the evidence file changed since ingest ({detail}, ingested as "
            f"{stored}); refusing to show a record from it. Run `ir verify-evidence`."
        )
    text, reason = _read(connection, pointer, Path(path), _layout(layout))
    if text is None:
        raise EvidenceError(f"{where}: the record there is not valid JSON ({reason})")
    if not _holds_event(connection, pointer, source, text):
        raise EvidenceError(
            f"{where}: the record there is not the one ingested (another content hash);"
            " was the case made by another version of ir's readers?"
        )
    return text


def _resolve(connection: duckdb.DuckDBPyConnection, event: str) -> _Pointer:
    """event_key, then `<source>:<id>`, then `<file>#<record>`."""
    row = None
    if event.isdigit():
        row = connection.execute(
            "SELECT file_id, record_no, content_hash FROM events WHERE event_key = ?",
            [int(event)],
        ).fetchone()
    source, colon, event_id = event.partition(":")
    if row is None and colon:
        row = connection.execute(
            "SELECT file_id, record_no, content_hash FROM events"
            " WHERE source = ? AND source_event_id = ?",
            [source, event_id],
        ).fetchone()
    path, hash_sign, number = event.rpartition("#")
    if row is None and hash_sign and number.isdigit() and int(number) < 1:
        raise UsageError(f"{event}: record numbers start at 1 (the first record is #1)")
    if row is None and hash_sign and number.isdigit():
        file_id = _file_id(connection, path)
        if file_id is not None:
            return _Pointer(file_id, int(number), None)
    if row is None:
        # A string of no known form is not repeated: it may be a token pasted by mistake.
        shown = repr(event) if event.isdigit() or colon or hash_sign else "by that name"
        raise UnknownEvent(
            f"no event {shown} in the case; give <source>:<source_event_id>, an event_key,"
            " or <file>#<record> as a trace's evidence column shows it"
        )
    return _Pointer(row[0], row[1], row[2])


def _file_id(connection: duckdb.DuckDBPyConnection, path: str) -> int | None:
    """The evidence file at `path` as a trace prints it (absolute, links kept, as ingest
    stored it), relative, or through other links to the same file."""
    found = connection.execute(
        "SELECT file_id FROM evidence_files WHERE path IN (?, ?) ORDER BY file_id",
        [path, str(Path(path).absolute())],
    ).fetchone()
    if found:
        return int(found[0])
    target = Path(path).resolve()
    files = connection.execute("SELECT file_id, path FROM evidence_files ORDER BY file_id")
    return next((fid for fid, stored in files.fetchall() if Path(stored).resolve() == target), None)


def _layout(text: str) -> Layout:
    kind, _, key = text.partition(":")
    return Layout(kind, key or None)


def _read(
    connection: duckdb.DuckDBPyConnection, pointer: _Pointer, path: Path, layout: Layout
) -> tuple[str | None, str | None]:
    """The record's JSON text (None when invalid, with the reason), numbered as ingest
    numbered it: DuckDB's readers, or the salvage reader when DuckDB refuses the file."""
    records = reader_sql(layout, [str(path)], minify=False)
    try:
        # DuckDB keeps the readers' order through LIMIT/OFFSET: the n-th row is record n.
        row = connection.execute(
            f"SELECT CAST(record AS VARCHAR), reason FROM ({records}) LIMIT 1 OFFSET ?",
            [pointer.record_no - 1],
        ).fetchone()
    except READ_ERRORS:
        row = _salvaged(path, layout, pointer.record_no)
    if row is None:
        raise EvidenceError(f"{path}#{pointer.record_no}: the file has no such record")
    return row[0], row[1]


def _salvaged(path: Path, layout: Layout, record_no: int) -> tuple[str | None, str | None] | None:
    seen: set[tuple[int, int]] = set()
    for found in salvage(path, layout):
        seen.add((found.doc_no, found.elem_no))
        if len(seen) == record_no:
            return found.record, found.reason
    return None


def _holds_event(
    connection: duckdb.DuckDBPyConnection, pointer: _Pointer, source: str, text: str
) -> bool:
    """The record hashes to the event's content (unchecked for file#record pointers and
    for a mapped source whose mapping is not installed here)."""
    parser = next((p for p in registry.load().parsers if p.name == source), None)
    if pointer.content_hash is None or parser is None:
        return True
    return pointer.content_hash in _content_hashes(connection, parser, text)


def _content_hashes(connection: duckdb.DuckDBPyConnection, parser: Parser, text: str) -> set[str]:
    """The content hashes ingest keeps for a record (over its vendor record, envelope
    unwrapped): SHA-256's, and the `duckdb:<hex>` older cases kept (ir.store)."""
    one = (
        "SELECT 'record' AS file, json(TRY_CAST(? AS JSON)) AS record, NULL::VARCHAR AS reason,"
        " 1 AS position"
    )
    register_sql(connection)
    row = connection.execute(
        f"SELECT content_hash, ? || lower(hex(legacy_hash))"
        f" FROM ({parser.select_sql(one, legacy_hash=True)}) LIMIT 1",
        [LEGACY_HASH_PREFIX, text],
    ).fetchone()
    return {str(value) for value in row or () if value is not None}
