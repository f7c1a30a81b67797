"""Files -> case: walk, hash, skip what is in already, detect, map in DuckDB, load.

Per batch of files of one source and layout, one statement reads every record
(on every core, in evidence order) and one maps them; numbering, de-duplication,
rejects and loading are set operations on that result. Python touches files
(hash, sniff) and never records, except in the salvage path for files DuckDB
refuses as a whole.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from ir import forget as forgetting
from ir.formats import (
    CUT_SHORT,
    MAX_OBJECT_BYTES,
    READ_ERRORS,
    SNIFF_BYTES,
    Layout,
    UnreadableFile,
    read_prefix,
    reader_sql,
    salvage,
    sample_records,
    sha256_file,
    sniff,
)
from ir.store import LEGACY_HASH_PREFIX, LEGACY_HASHES_KEY, Store
from parsers import registry
from parsers.base import Parser, register_sql
from parsers.registry import Registry

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)
BATCH_BYTES = 64 * 1024 * 1024  # compressed; a batch holds its records decompressed twice
BATCH_FILES = 4096  # many small files (5-minute CloudTrail deliveries) batch together
CHECKPOINT_WAL = "256MB"
IGNORE_FILE = ".irignore"


@dataclass
class FileReport:
    """What ingest did with one file (contract §3, `ingest --format json`)."""

    file: str
    sha256: str | None
    source: str | None
    records: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    skipped: bool = False
    error: str | None = None
    note: str | None = None
    replaced: str | None = None  # --force: what of the file's earlier reading it replaced

    def to_json(self) -> dict[str, Any]:
        optional = ("error", "note", "replaced")
        return {k: v for k, v in asdict(self).items() if v is not None or k not in optional}


@dataclass
class _Pending:
    path: Path
    sha256: str
    bytes: int
    parser: Parser
    layout: Layout
    report: FileReport
    file_id: int = 0
    replaces: int | None = None  # --force: the file_id whose rows this file's new ones replace


SUMMARY_COLUMNS = [
    "source",
    "files",
    "already_in_case",
    "records",
    "loaded",
    "duplicates",
    "rejected",
    "failed",
]


def summary(reports: list[FileReport]) -> pd.DataFrame:
    """Per source (`unrecognised`: files no source matched; `ignored`: by an .irignore):
    files, those already in the case, records, loaded, duplicates, rejected, files that
    could not be read."""
    rows = pd.DataFrame(
        {
            "source": [r.source or ("unrecognised" if r.error else "ignored") for r in reports],
            "files": 1,
            "already_in_case": [int(r.skipped and r.source is not None) for r in reports],
            "records": [r.records for r in reports],
            "loaded": [r.loaded for r in reports],
            "duplicates": [r.duplicates for r in reports],
            "rejected": [r.rejected for r in reports],
            "failed": [int(r.error is not None) for r in reports],
        }
    )
    if rows.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    return rows.groupby("source", sort=True).sum().reset_index()[SUMMARY_COLUMNS]


def with_problems(reports: list[FileReport]) -> list[FileReport]:
    """The files a responder must look at: not read, or with rejected records."""
    return [r for r in reports if r.error or r.rejected]


class IngestError(ValueError):
    """A file that cannot be ingested at all; names the file and the reason."""


def ingest(
    store: Store,
    paths: Iterable[Path],
    source: str | None = None,
    progress: Progress | None = None,
    mappings: Iterable[str | Path] = (),
    after_load: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    force: bool = False,
) -> list[FileReport]:
    """`mappings`: folders of mapping files whose sources join detection after the built-ins.
    `force`: a file already in the case is read again and its rows replaced (ir/forget.py),
    in the transaction that loads the new ones, and journaled.

    Raises registry.UnknownSource for a `source` no parser or mapping has.
    `after_load`: work on what was loaded (none when every file was skipped), before the
    closing checkpoint; the case facade keeps the coverage spans with it."""
    available = registry.load(mappings)
    override = available.get(source) if source else None
    reports: list[FileReport] = []
    pending: list[_Pending] = []
    # absolute(), not resolve(): resolving symlinks costs a stat per path component per file.
    case_files = {store.path.absolute(), store.path.absolute().with_name(store.path.name + ".wal")}
    entries = [(p, ignore) for p, ignore in _walk(paths) if p.absolute() not in case_files]
    known = _known_hashes(store)
    examined = _examine_all(
        [p for p, ignore in entries if ignore is None], {} if force else known, override, available
    )
    taken: set[str] = set()
    for path, ignore_file in entries:
        if ignore_file is not None:
            reports.append(
                FileReport(str(path), None, None, skipped=True, note=f"ignored by {ignore_file}")
            )
            continue
        report, item = examined[path]
        if item and item.sha256 in taken:  # the same bytes twice in one run: load them once
            report, item = FileReport(report.file, item.sha256, None, skipped=True), None
        reports.append(report)
        if item:
            taken.add(item.sha256)
            item.replaces = known[item.sha256][1] if item.sha256 in known else None
            pending.append(item)
    total = sum(item.bytes for item in pending)
    done = 0
    register_sql(store.connection)
    with _fewer_checkpoints(store.connection):
        for batch in _batches(pending):
            _load_batch(store, batch)
            done += sum(item.bytes for item in batch)
            if progress:
                progress(done, total)
        forgetting.keep_unloaded(
            store.connection,
            [r.sha256 for r in reports if r.sha256],
            [
                (str(Path(r.file).absolute()), r.sha256, r.source, r.error)
                for r in reports
                if r.sha256 and r.error
            ],
        )
        if pending and after_load is not None:
            after_load(store.connection)
    for item in pending:  # read, but nothing of it could be loaded: the file failed
        report = item.report
        if report.error is None and report.records and report.rejected == report.records:
            report.error = f"none of its {report.records} records could be loaded (ir rejects)"
    return reports


def _examine_all(
    paths: list[Path],
    known: dict[str, tuple[str, int]],
    override: Parser | None,
    available: Registry,
) -> dict[Path, tuple[FileReport, _Pending | None]]:
    """Hash (and sniff) the files on every core: hashlib lets go of the GIL while it hashes,
    and on a re-ingest of 22,000 files hashing is all the work there is."""
    with ThreadPoolExecutor(max_workers=max(os.cpu_count() or 1, 2)) as pool:
        results = pool.map(lambda path: _prepare_file(path, known, override, available), paths)
        return dict(zip(paths, results, strict=True))


@contextmanager
def _fewer_checkpoints(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Checkpoint every 256 MB of WAL rather than DuckDB's 16 MB, and once at the end.

    A checkpoint writes the indexes out, so at DuckDB's threshold (about one per
    batch) its cost grew with the case; with none until the end, the WAL of a
    10M-event ingest held 4 GB and peak RSS doubled (1.9 -> 3.7 GB). Committed
    batches are safe in the WAL between checkpoints."""
    ((threshold,),) = connection.execute(
        "SELECT current_setting('checkpoint_threshold')"
    ).fetchall()
    connection.execute("SET checkpoint_threshold = ?", [CHECKPOINT_WAL])
    try:
        yield
        connection.execute("CHECKPOINT")
    finally:
        connection.execute("SET checkpoint_threshold = ?", [threshold])


def _walk(paths: Iterable[Path]) -> Iterator[tuple[Path, Path | None]]:
    """Files under the paths, each with the `.irignore` that excludes it, if any.

    A folder's `.irignore` lists glob patterns (relative to that folder) of files
    that are not evidence — notes, answers, token files beside the logs. A file
    named on the command line is always read.
    """
    for path in paths:
        if not path.is_dir():
            yield path, None
            continue
        rules = _ignore_rules(path)
        for file in sorted(
            p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
        ):
            yield file, next((origin for origin, match in rules if match(file)), None)


def _ignore_rules(root: Path) -> list[tuple[Path, Callable[[Path], bool]]]:
    rules: list[tuple[Path, Callable[[Path], bool]]] = []
    for ignore_file in sorted(root.rglob(IGNORE_FILE)):
        folder = ignore_file.parent
        patterns = [line.strip() for line in ignore_file.read_text().splitlines()]
        patterns = [p for p in patterns if p and not p.startswith("#")]

        def match(file: Path, folder: Path = folder, patterns: list[str] = patterns) -> bool:
            if not file.is_relative_to(folder):
                return False
            relative = file.relative_to(folder).as_posix()
            return any(fnmatch(relative, p) or fnmatch(file.name, p) for p in patterns)

        rules.append((ignore_file, match))
    return rules


def _known_hashes(store: Store) -> dict[str, tuple[str, int]]:
    """The files already in the case, by SHA-256: the source each was read as, its file_id."""
    rows = store.connection.execute("SELECT sha256, source, file_id FROM evidence_files")
    return {sha256: (source, file_id) for sha256, source, file_id in rows.fetchall()}


def _prepare_file(
    path: Path, known: dict[str, tuple[str, int]], override: Parser | None, available: Registry
) -> tuple[FileReport, _Pending | None]:
    name = str(path)
    if not path.is_file():
        return FileReport(name, None, None, error="no such file"), None
    digest, size = sha256_file(path)
    if digest in known:
        return FileReport(name, digest, known[digest][0], skipped=True), None
    try:
        layout, samples = _sample(path)
        parser = override or _detect(samples, available)
    except (UnreadableFile, IngestError) as error:
        return FileReport(name, digest, None, error=str(error)), None
    report = FileReport(name, digest, parser.name)
    return report, _Pending(path.absolute(), digest, size, parser, layout, report)


def _sample(path: Path) -> tuple[Layout, list[dict[str, Any]]]:
    """The file's layout and its first whole records. A first record longer than the
    sniffed prefix (a CloudTrail record with a large policy document) widens the prefix."""
    limit = SNIFF_BYTES
    while True:
        prefix, compressed = read_prefix(path, limit)
        layout = sniff(prefix, compressed)
        samples = sample_records(prefix, layout)
        if samples or len(prefix) < limit or limit >= MAX_OBJECT_BYTES:
            return layout, samples
        limit *= 8


def _detect(samples: list[dict[str, Any]], available: Registry) -> Parser:
    parser = available.detect(samples)
    if parser is not None:
        return parser
    if not samples:
        raise IngestError("no complete JSON record or CSV row at the start of the file")
    raise IngestError(
        f"records match no known source (known: {', '.join(available.names)}); use --source"
        " NAME, or --mappings FOLDER for a source defined in a mapping file"
    )


def _batches(pending: list[_Pending]) -> Iterator[list[_Pending]]:
    groups: dict[tuple[str, str], list[_Pending]] = defaultdict(list)
    for item in pending:
        groups[(item.parser.name, str(item.layout))].append(item)
    for items in groups.values():
        batch: list[_Pending] = []
        size = 0
        for item in items:
            # CSV files go one by one: a batch reads by column name, and a row must not
            # gain other files' columns (its content hash and canonical id would change).
            full = size + item.bytes > BATCH_BYTES or len(batch) >= BATCH_FILES
            if batch and (full or item.layout.kind == "csv"):
                yield batch
                batch, size = [], 0
            batch.append(item)
            size += item.bytes
        if batch:
            yield batch


def _load_batch(store: Store, batch: list[_Pending]) -> None:
    """Load a batch in one transaction; a file DuckDB refuses is retried alone, then salvaged."""
    connection = store.connection
    # Records a source unwraps from an envelope (Event history's CloudTrailEvent) are
    # minified once, as vendor records, not first as the lines that carry them.
    layout, parser = batch[0].layout, batch[0].parser
    minify = parser.envelope is None or layout.kind == "wrapper"
    try:
        _run_batch(
            connection, batch, lambda: reader_sql(layout, _paths(batch), minify=minify), minify
        )
    except READ_ERRORS:
        if len(batch) > 1:
            for item in batch:
                _load_batch(store, [item])
            return
        try:
            _run_batch(connection, batch, lambda: _salvaged_records(connection, batch[0]))
        except READ_ERRORS as error:
            # One file DuckDB cannot read even record by record: name it, load the others.
            message = str(error).strip().splitlines()[0]
            batch[0].report.error = f"cannot be read ({message})"


def _paths(batch: list[_Pending]) -> list[str]:
    return [str(item.path) for item in batch]


def _salvaged_records(connection: duckdb.DuckDBPyConnection, item: _Pending) -> str:
    rows = list(salvage(item.path, item.layout))
    last = rows[-1].reason or "" if rows else ""
    if last.startswith(CUT_SHORT):
        item.report.note = last.split("; ")[0]
    table = pa.table(
        {
            "file": pa.array([str(item.path)] * len(rows), pa.string()),
            "record": pa.array([r.record for r in rows], pa.string()),
            "reason": pa.array([r.reason for r in rows], pa.string()),
        }
    )
    connection.register("ir_salvaged", table)
    # TRY_CAST: what Python's json accepts and DuckDB does not (a lone surrogate
    # escape) is one invalid record, as it is on DuckDB's own read path; json()
    # minifies as the DuckDB readers do.
    return "SELECT file, json(TRY_CAST(record AS JSON)) AS record, reason FROM ir_salvaged"


# Temporary objects of one batch, dropped when it ends (views first).
_BATCH_VIEWS = ("ir_new", "staged")
_BATCH_TABLES = ("ir_kept", "ir_conflicts", "ir_file_rows", "ir_mapped", "ir_records")


def _run_batch(
    connection: duckdb.DuckDBPyConnection,
    batch: list[_Pending],
    records: Callable[[], str],
    minified: bool = True,
) -> None:
    """`records` builds the reader SQL once the batch's file ids exist; `minified`: whether
    it minifies them (Parser.select_sql)."""
    parser = batch[0].parser
    connection.execute("BEGIN TRANSACTION")
    try:
        _replace_files(connection, batch)
        _register_files(connection, batch)
        _stage(connection, parser, records(), minified)
        _load_staged(connection, parser)
        _finish_files(connection, batch)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    finally:
        for view in _BATCH_VIEWS:
            connection.execute(f"DROP VIEW IF EXISTS {view}")
        for table in _BATCH_TABLES:
            connection.execute(f"DROP TABLE IF EXISTS {table}")
        connection.unregister("ir_batch_files")


def _replace_files(connection: duckdb.DuckDBPyConnection, batch: list[_Pending]) -> None:
    """--force: take out the rows of the batch's files already in the case (journaled)."""
    for item in batch:
        if item.replaces is not None:
            request = f"ir ingest --force (read as {item.parser.name})"
            removed = forgetting.remove(connection, item.replaces, forgetting.REINGEST, request)
            item.report.replaced = f"{removed.summary()} ({removed.source})"


def _register_files(connection: duckdb.DuckDBPyConnection, batch: list[_Pending]) -> None:
    """Give the batch's files their ids; their rows are written with their counts at the end."""
    # fetchall, not fetchone: DuckDB refuses `register` while a result is unfinished.
    ((last_id,),) = connection.execute(
        "SELECT coalesce(max(file_id), 0) FROM evidence_files"
    ).fetchall()
    next_id = last_id + 1
    for offset, item in enumerate(batch):
        item.file_id = next_id + offset
    connection.register(
        "ir_batch_files",
        pa.table(
            {
                "file_id": pa.array([item.file_id for item in batch], pa.int32()),
                "file": [str(item.path) for item in batch],
            }
        ),
    )


def _stage(
    connection: duckdb.DuckDBPyConnection, parser: Parser, records: str, minified: bool
) -> None:
    """Read the batch's records into `ir_records`, map them into `ir_mapped`, number them.

    Both tables are written in parallel and keep the readers' evidence order, so a
    record's rowid in `ir_records` is its place in the batch (`position`), its number
    is its distance from its file's first record, and an event's `row_no` (its rowid
    in `ir_mapped`, from 0) orders the batch's events: no sort, no window. Mapping from a
    table rather than from the reader also keeps DuckDB from re-expanding the readers'
    vectors inside the mapping's list lambdas (30x slower on Entra audit records)."""
    connection.execute(f"CREATE OR REPLACE TEMP TABLE ir_records AS {records}")
    mapped = parser.select_sql(
        "SELECT file, rowid AS position, record, reason FROM ir_records",
        legacy_hash=_holds_legacy_hashes(connection),
        minified=minified,
    )
    if parser.positional:
        mapped = f"SELECT * FROM ({mapped}) ORDER BY position, part_no"
    connection.execute(f"CREATE OR REPLACE TEMP TABLE ir_mapped AS {mapped}")
    connection.execute(
        """
        CREATE OR REPLACE TEMP TABLE ir_file_rows AS
        SELECT f.file_id, r.file, r.first_position
        FROM (SELECT file, min(rowid) AS first_position FROM ir_records GROUP BY file) r
        JOIN ir_batch_files f USING (file)
        """
    )
    # Rows written inside a transaction get rowids far above the table's (DuckDB's
    # transaction-local storage): count from the first.
    ((first_row,),) = connection.execute("SELECT min(rowid) FROM ir_mapped").fetchall()
    connection.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW staged AS
        SELECT f.file_id, m.rowid - {int(first_row or 0)} AS row_no,
               m.position - f.first_position + 1 AS record_no,
               m.* EXCLUDE (file, position),
               m.invalid_reason IS NULL AND m.time IS NOT NULL AS valid
        FROM ir_mapped m JOIN ir_file_rows f USING (file)
        """
    )


def _holds_legacy_hashes(connection: duckdb.DuckDBPyConnection) -> bool:
    """Whether the case holds rows whose content hash is DuckDB's hash() (ir.store)."""
    found = connection.execute("SELECT 1 FROM case_meta WHERE key = ?", [LEGACY_HASHES_KEY])
    return bool(found.fetchall())


def _load_staged(connection: duckdb.DuckDBPyConnection, parser: Parser) -> None:
    """Insert the batch's new events, their refs and resources; duplicates and id collisions
    aside. A resource whose parser gave no access takes the shared rule over its event's
    action (parsers.base ACCESS_MACROS), worked out once per distinct action of the batch.

    A vendor id that is new to the case and to the batch (nearly all of them) loads as
    it is. Only the ids seen twice, in the batch or in the case, go through the
    general rule: identical content is a duplicate, different content a new record
    named `<id>#<content hash>`. The case is probed once per batch for the batch's ids.
    A row loaded before the SHA-256 content hash (`duckdb:<hex>`, ir.store) is matched by
    the record's DuckDB hash(), which the mapping then gives too (`legacy_hash`).
    """
    source = parser.name
    connection.execute(
        """
        INSERT INTO rejects
        SELECT file_id, record_no, ?, coalesce(invalid_reason, 'no valid time in ' || ?)
        FROM staged WHERE NOT valid
        """,
        [source, parser.time_field],
    )
    connection.execute(
        """
        CREATE OR REPLACE TEMP TABLE ir_conflicts AS
        SELECT source_event_id FROM ir_mapped
        WHERE invalid_reason IS NULL AND time IS NOT NULL
        GROUP BY source_event_id HAVING count(*) > 1
        UNION
        SELECT source_event_id FROM events
        WHERE source = ? AND source_event_id IN
          (SELECT source_event_id FROM ir_mapped WHERE invalid_reason IS NULL AND time IS NOT NULL)
        """,
        [source],
    )
    connection.execute(
        """
        CREATE OR REPLACE TEMP TABLE ir_kept AS
        WITH g AS (
          SELECT source_event_id AS vendor_id, content_hash, min(row_no) AS first_row,
                 source_event_id || '#' || content_hash AS suffixed,
                 ? || lower(hex(legacy_hash)) AS legacy,
                 source_event_id || '#' || lower(hex(legacy_hash)) AS legacy_suffixed
          FROM staged
          WHERE valid AND source_event_id IN (SELECT source_event_id FROM ir_conflicts)
          GROUP BY ALL
        ),
        existing AS (
          SELECT source_event_id, content_hash FROM events
          WHERE source = ?
            AND source_event_id IN (SELECT vendor_id FROM g UNION ALL SELECT suffixed FROM g
                                    UNION ALL SELECT legacy_suffixed FROM g)
        ),
        checked AS (
          SELECT g.*,
            EXISTS (SELECT 1 FROM existing e
                    WHERE (e.source_event_id = g.vendor_id AND e.content_hash IN (g.content_hash, g.legacy))
                       OR e.source_event_id IN (g.suffixed, g.legacy_suffixed)) AS duplicate,
            EXISTS (SELECT 1 FROM existing e WHERE e.source_event_id = g.vendor_id) AS vendor_id_taken
          FROM g
        )
        SELECT first_row AS row_no,
          CASE WHEN vendor_id_taken OR row_number() OVER (PARTITION BY vendor_id, duplicate ORDER BY first_row) > 1
               THEN suffixed ELSE vendor_id END AS final_id
        FROM checked WHERE NOT duplicate
        """,
        [LEGACY_HASH_PREFIX, source],
    )
    ((last_key,),) = connection.execute("SELECT coalesce(max(event_key), 0) FROM events").fetchall()
    connection.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW ir_new AS
        SELECT {int(last_key) + 1} + s.row_no AS event_key, s.*,
               coalesce(k.final_id, s.source_event_id) AS final_id
        FROM staged s LEFT JOIN ir_kept k USING (row_no)
        WHERE s.valid AND (k.row_no IS NOT NULL
                           OR s.source_event_id NOT IN (SELECT source_event_id FROM ir_conflicts))
        """
    )
    connection.execute(
        """
        INSERT INTO events
        SELECT event_key, ?, final_id, time, action, coalesce(outcome, 'unknown'), error,
               actor, tenant, client_ip, user_agent, country, asn, file_id, record_no, content_hash
        FROM ir_new
        """,
        [source],
    )
    connection.execute(
        f"""
        INSERT INTO event_hours
        SELECT '{source}', tenant, file_id, date_trunc('hour', time), count(*), min(time), max(time)
        FROM ir_new GROUP BY ALL
        """
    )
    connection.execute(
        """
        INSERT INTO credential_refs
        SELECT DISTINCT event_key, ref.credential, ref.kind, ref.relation, ref.parent, ref.via,
               ref.principal, ref.expires_at, ref.scopes
        FROM (SELECT event_key, unnest(refs) AS ref FROM ir_new)
        """
    )
    connection.execute(
        """
        INSERT INTO event_resources
        SELECT DISTINCT n.event_key, res.type, res.id, res.name, coalesce(res.access, a.access)
        FROM (SELECT event_key, action, unnest(resources) AS res FROM ir_new) n
        LEFT JOIN (SELECT action, ir_access(action) AS access
                   FROM (SELECT DISTINCT action FROM ir_new)) a USING (action)
        """
    )


def _finish_files(connection: duckdb.DuckDBPyConnection, batch: list[_Pending]) -> None:
    """Count each file's records and write the batch's evidence rows in one statement."""
    counts = connection.execute(
        """
        SELECT file_id, count(*), count(*) FILTER (WHERE NOT valid)
        FROM staged GROUP BY file_id
        """
    ).fetchall()
    loaded = dict(
        connection.execute("SELECT file_id, count(*) FROM ir_new GROUP BY file_id").fetchall()
    )
    by_id = {row[0]: row[1:] for row in counts}
    for item in batch:
        report = item.report
        report.records, report.rejected = by_id.get(item.file_id, (0, 0))
        report.loaded = loaded.get(item.file_id, 0)
        report.duplicates = report.records - report.rejected - report.loaded
    connection.register("ir_files", _evidence_rows(batch))
    connection.execute(
        "INSERT INTO evidence_files BY NAME SELECT *, now() AS ingested_at FROM ir_files"
    )
    connection.unregister("ir_files")


def _evidence_rows(batch: list[_Pending]) -> pa.Table:
    """The evidence_files columns (but `ingested_at`) of a batch, in table order."""
    reports = [item.report for item in batch]
    return pa.table(
        {
            "file_id": pa.array([item.file_id for item in batch], pa.int32()),
            "path": [str(item.path) for item in batch],
            "sha256": [item.sha256 for item in batch],
            "bytes": pa.array([item.bytes for item in batch], pa.int64()),
            "source": [item.parser.name for item in batch],
            "layout": [str(item.layout) for item in batch],
            "records": pa.array([r.records for r in reports], pa.int64()),
            "loaded": pa.array([r.loaded for r in reports], pa.int64()),
            "duplicates": pa.array([r.duplicates for r in reports], pa.int64()),
            "rejected": pa.array([r.rejected for r in reports], pa.int64()),
        }
    )
