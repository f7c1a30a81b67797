"""Files -> case: walk, hash, skip what is in already, detect, map in DuckDB, load.

Per batch of files of one source and layout, one SQL statement reads and maps
every record; loading, numbering, de-duplication and rejects are set operations
on that result. Python touches files (hash, sniff) and never records, except in
the salvage path for files DuckDB refuses as a whole.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from ir.formats import (
    MAX_OBJECT_BYTES,
    SNIFF_BYTES,
    Layout,
    UnreadableFile,
    read_prefix,
    reader_sql,
    salvage,
    sample_records,
    sniff,
)
from parsers.base import Parser
from parsers.mapping import registry

if TYPE_CHECKING:
    from ir.case import Case

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)
BATCH_BYTES = 128 * 1024 * 1024
BATCH_FILES = 512
IGNORE_FILE = ".irignore"
# What DuckDB raises for unreadable bytes (bad JSON, truncated gz, bad UTF-8);
# anything else is a bug and propagates.
READ_ERRORS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)


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

    def to_json(self) -> dict[str, Any]:
        return {
            k: v for k, v in asdict(self).items() if v is not None or k not in ("error", "note")
        }


@dataclass
class _Pending:
    path: Path
    sha256: str
    bytes: int
    parser: Parser
    layout: Layout
    report: FileReport
    file_id: int = 0


class IngestError(ValueError):
    """A file that cannot be ingested at all; names the file and the reason."""


def ingest(
    case: Case,
    paths: Iterable[Path],
    source: str | None = None,
    progress: Progress | None = None,
    mappings: Iterable[str | Path] = (),
) -> list[FileReport]:
    """`mappings`: folders of mapping files whose sources join detection after the built-ins."""
    available = registry(mappings)
    override = _named(available, source) if source else None
    reports: list[FileReport] = []
    pending: list[_Pending] = []
    known = _known_hashes(case)
    # absolute(), not resolve(): resolving symlinks costs a stat per path component per file.
    case_files = {case.path.absolute(), case.path.absolute().with_name(case.path.name + ".wal")}
    for path, ignore_file in _walk(paths):
        if path.absolute() in case_files:
            continue  # `ir ingest .` beside the case file: the case is not evidence
        if ignore_file is not None:
            reports.append(
                FileReport(str(path), None, None, skipped=True, note=f"ignored by {ignore_file}")
            )
            continue
        report, item = _prepare_file(path, known, override, available)
        reports.append(report)
        if item:
            known.add(item.sha256)
            pending.append(item)
    total = sum(item.bytes for item in pending)
    done = 0
    for batch in _batches(pending):
        _load_batch(case, batch)
        done += sum(item.bytes for item in batch)
        if progress:
            progress(done, total)
    return reports


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
    rules = []
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


def _known_hashes(case: Case) -> set[str]:
    return {
        row[0] for row in case.connection.execute("SELECT sha256 FROM evidence_files").fetchall()
    }


def _prepare_file(
    path: Path, known: set[str], override: Parser | None, available: tuple[Parser, ...]
) -> tuple[FileReport, _Pending | None]:
    name = str(path)
    if not path.is_file():
        return FileReport(name, None, None, error="no such file"), None
    digest, size = sha256_file(path)
    if digest in known:
        return FileReport(name, digest, None, skipped=True), None
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


def sha256_file(path: Path) -> tuple[str, int]:
    """The file's SHA-256 (hex) and size, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _named(available: tuple[Parser, ...], name: str) -> Parser:
    for parser in available:
        if parser.name == name:
            return parser
    known = ", ".join(p.name for p in available)
    raise KeyError(f"unknown source '{name}'; known sources: {known}")


def _detect(samples: list[dict[str, Any]], available: tuple[Parser, ...]) -> Parser:
    for record in samples:
        for parser in available:
            if parser.detect(record):
                return parser
    if not samples:
        raise IngestError("no complete JSON record or CSV row at the start of the file")
    raise IngestError(
        "records match no known source (known: "
        + ", ".join(p.name for p in available)
        + "); use --source NAME"
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


def _load_batch(case: Case, batch: list[_Pending]) -> None:
    """Load a batch in one transaction; a file DuckDB refuses is retried alone, then salvaged."""
    connection = case.connection
    try:
        _run_batch(connection, batch, lambda: reader_sql(batch[0].layout, _files(batch)))
    except READ_ERRORS:
        if len(batch) > 1:
            for item in batch:
                _load_batch(case, [item])
            return
        try:
            _run_batch(connection, batch, lambda: _salvaged_records(connection, batch[0]))
        except READ_ERRORS as error:
            # One file DuckDB cannot read even record by record: name it, load the others.
            message = str(error).strip().splitlines()[0]
            batch[0].report.error = f"cannot be read ({message})"


def _files(batch: list[_Pending]) -> list[tuple[int, str]]:
    return [(item.file_id, str(item.path)) for item in batch]


def _salvaged_records(connection: duckdb.DuckDBPyConnection, item: _Pending) -> str:
    rows = list(salvage(item.path, item.layout))
    table = pa.table(
        {
            "file_id": pa.array([item.file_id] * len(rows), pa.int32()),
            "doc_no": pa.array([r.doc_no for r in rows], pa.int64()),
            "elem_no": pa.array([r.elem_no for r in rows], pa.int64()),
            "record": pa.array([r.record for r in rows], pa.string()),
            "reason": pa.array([r.reason for r in rows], pa.string()),
        }
    )
    connection.register("ir_salvaged", table)
    return (
        # TRY_CAST: what Python's json accepts and DuckDB does not (a lone surrogate
        # escape) is one invalid record, as it is on DuckDB's own read path.
        "SELECT file_id, doc_no, elem_no, TRY_CAST(record AS JSON) AS record, reason FROM ir_salvaged"
    )


def _run_batch(
    connection: duckdb.DuckDBPyConnection, batch: list[_Pending], records: Callable[[], str]
) -> None:
    """`records` builds the reader SQL once the batch's file ids exist."""
    parser = batch[0].parser
    connection.execute("BEGIN TRANSACTION")
    try:
        _register_files(connection, batch)
        _stage(connection, parser, records())
        _load_staged(connection, parser)
        _finish_files(connection, batch)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    finally:
        connection.execute("DROP TABLE IF EXISTS staged")


def _register_files(connection: duckdb.DuckDBPyConnection, batch: list[_Pending]) -> None:
    """Give the batch's files their ids; their rows are written with their counts at the end."""
    # fetchall, not fetchone: DuckDB refuses `register` while a result is unfinished.
    ((last_id,),) = connection.execute(
        "SELECT coalesce(max(file_id), 0) FROM evidence_files"
    ).fetchall()
    next_id = last_id + 1
    for offset, item in enumerate(batch):
        item.file_id = next_id + offset


def _stage(connection: duckdb.DuckDBPyConnection, parser: Parser, records: str) -> None:
    connection.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE staged AS
        SELECT *, dense_rank() OVER (PARTITION BY file_id ORDER BY doc_no, elem_no) AS record_no
        FROM ({parser.select_sql(records)})
        """
    )


def _load_staged(connection: duckdb.DuckDBPyConnection, parser: Parser) -> None:
    source = parser.name.replace("'", "''")
    connection.execute(
        f"""
        INSERT INTO rejects
        SELECT file_id, record_no, '{source}',
               coalesce(invalid_reason, 'no valid time in {parser.time_field}')
        FROM staged WHERE invalid_reason IS NOT NULL OR time IS NULL
        """
    )
    connection.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ir_groups AS
        WITH g AS (
          SELECT source_event_id AS vendor_id, content_hash,
                 min(file_id * 1000000000000 + record_no) AS first_position,
                 source_event_id || '#' || lower(hex(content_hash)) AS suffixed
          FROM staged WHERE invalid_reason IS NULL AND time IS NOT NULL
          GROUP BY ALL
        ),
        existing AS (
          SELECT source_event_id, content_hash FROM events
          WHERE source = '{source}'
            AND source_event_id IN (SELECT vendor_id FROM g UNION ALL SELECT suffixed FROM g)
        ),
        checked AS (
          SELECT g.*,
            EXISTS (SELECT 1 FROM existing e WHERE (e.source_event_id = g.vendor_id AND e.content_hash = g.content_hash)
                                              OR e.source_event_id = g.suffixed) AS duplicate,
            EXISTS (SELECT 1 FROM existing e WHERE e.source_event_id = g.vendor_id) AS vendor_id_taken
          FROM g
        )
        SELECT *,
          CASE WHEN vendor_id_taken OR row_number() OVER (PARTITION BY vendor_id, duplicate ORDER BY first_position) > 1
               THEN suffixed ELSE vendor_id END AS final_id
        FROM checked
        """
    )
    connection.execute(
        """
        CREATE OR REPLACE TEMP TABLE ir_new AS
        SELECT (SELECT coalesce(max(event_key), 0) FROM events)
                 + row_number() OVER (ORDER BY s.file_id, s.record_no, s.part_no) AS event_key,
               s.*, g.final_id
        FROM staged s JOIN ir_groups g
          ON s.source_event_id = g.vendor_id AND s.content_hash = g.content_hash
         AND s.file_id * 1000000000000 + s.record_no = g.first_position
        WHERE NOT g.duplicate
        """
    )
    connection.execute(
        f"""
        INSERT INTO events
        SELECT event_key, '{source}', final_id, time, action, coalesce(outcome, 'unknown'), error,
               actor, tenant, client_ip, user_agent, country, asn, file_id, record_no, content_hash
        FROM ir_new
        """
    )
    connection.execute(
        """
        INSERT INTO credential_refs
        SELECT DISTINCT event_key, ref.credential, ref.kind, ref.relation, ref.parent, ref.via, ref.principal
        FROM (SELECT event_key, unnest(refs) AS ref FROM ir_new)
        """
    )


def _finish_files(connection: duckdb.DuckDBPyConnection, batch: list[_Pending]) -> None:
    """Count each file's records and write the batch's evidence rows in one statement."""
    counts = connection.execute(
        """
        SELECT file_id, count(*), count(*) FILTER (WHERE invalid_reason IS NOT NULL OR time IS NULL)
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
    connection.execute("INSERT INTO evidence_files SELECT *, now() FROM ir_files")
    connection.unregister("ir_files")
    connection.execute("DROP TABLE IF EXISTS ir_new")
    connection.execute("DROP TABLE IF EXISTS ir_groups")


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
