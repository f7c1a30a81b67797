"""The case file underneath everything: open, wait for the lock, create, migrate.

One DuckDB database per incident. A second writer waits for the file lock (DuckDB
allows one writing process) and gives up with a clear message; a case of an older
schema is migrated, a newer or damaged one refused in one line. This module imports
nothing of ir above it: ingest, trace, playbooks and the notebook facade all take a
`Store` (most need only `.connection` and `.path`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import duckdb

from ir.errors import IrError

SCHEMA_VERSION = 9
LOCK_TIMEOUT_SECONDS = 60.0
IN_MEMORY = ":memory:"
# What DuckDB says about a damaged file, at open or at the first read of a bad block.
DAMAGE = re.compile(
    r"Corrupt database file|not a valid DuckDB database|Could not read enough bytes"
    r"|checksum|replaying WAL|WAL file|in-memory database in read-only mode",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Migration:
    """One step of the case schema: `sql` takes a case from `version - 1` to `version`."""

    version: int
    why: str
    sql: str


TRACE_INDEXES = """
CREATE INDEX IF NOT EXISTS events_event_key ON events (event_key);
CREATE INDEX IF NOT EXISTS events_client_ip ON events (client_ip);
CREATE INDEX IF NOT EXISTS credential_refs_credential ON credential_refs (credential);
CREATE INDEX IF NOT EXISTS credential_refs_credential_lower ON credential_refs (lower(credential));
CREATE INDEX IF NOT EXISTS credential_refs_parent ON credential_refs (parent);
"""
# Content hashes were DuckDB's hash() of the vendor record until SHA-256 replaced it
# (parsers.base.CONTENT_HASH_SQL). hash() is no stable function, so those values cannot
# be turned into the new digest, and recomputing them means re-reading every evidence
# file with its parser (minutes on a large case, impossible when the files moved or a
# mapping is not installed): the rows keep their value as `duckdb:<hex>`, the text their
# `<id>#<hex>` ids show, and case_meta counts them. Ingest then also computes hash() for
# a batch and matches re-deliveries against those rows by it (ir.ingest).
LEGACY_HASH_PREFIX = "duckdb:"
LEGACY_HASHES_KEY = "legacy_content_hashes"
STABLE_CONTENT_HASH = f"""
DROP INDEX IF EXISTS events_event_key;
DROP INDEX IF EXISTS events_client_ip;
ALTER TABLE events ALTER content_hash TYPE VARCHAR
    USING '{LEGACY_HASH_PREFIX}' || lower(hex(content_hash));
CREATE INDEX events_event_key ON events (event_key);
CREATE INDEX events_client_ip ON events (client_ip);
INSERT INTO case_meta
    SELECT '{LEGACY_HASHES_KEY}', CAST(count(*) AS VARCHAR) FROM events HAVING count(*) > 0;
"""
# What ingest adds per batch (ir/ingest.py), here over every event: rebuilt whole, so a
# case whose schema.sql already made the table (an older case re-stamped) is not doubled.
# coverage_spans starts empty and unmarked: readers work the spans out until an ingest.
EVENT_HOURS = """
CREATE TABLE IF NOT EXISTS event_hours (
    source VARCHAR NOT NULL, tenant VARCHAR, file_id INTEGER NOT NULL,
    hour TIMESTAMPTZ NOT NULL, events BIGINT NOT NULL,
    first_event TIMESTAMPTZ NOT NULL, last_event TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS coverage_spans (
    source VARCHAR NOT NULL, tenant VARCHAR, span VARCHAR NOT NULL,
    start TIMESTAMPTZ NOT NULL, stop TIMESTAMPTZ NOT NULL, usual BIGINT
);
DELETE FROM event_hours;
INSERT INTO event_hours
SELECT source, tenant, file_id, date_trunc('hour', time), count(*), min(time), max(time)
FROM events GROUP BY ALL;
"""
# Numbered steps from case_meta.schema_version to SCHEMA_VERSION; schema.sql is always
# the newest schema. Append a step (and bump SCHEMA_VERSION); never edit a shipped one.
JOURNAL_STEP_COLUMNS = """
ALTER TABLE journal ADD COLUMN IF NOT EXISTS plan_root VARCHAR;
ALTER TABLE journal ADD COLUMN IF NOT EXISTS plan_created VARCHAR;
ALTER TABLE journal ADD COLUMN IF NOT EXISTS provider VARCHAR;
ALTER TABLE journal ADD COLUMN IF NOT EXISTS action VARCHAR;
ALTER TABLE journal ADD COLUMN IF NOT EXISTS target VARCHAR;
ALTER TABLE journal ADD COLUMN IF NOT EXISTS credentials VARCHAR[];
ALTER TABLE journal ADD COLUMN IF NOT EXISTS http_status INTEGER;
ALTER TABLE journal ADD COLUMN IF NOT EXISTS step VARCHAR;
"""
# What impact reads (contract §9): the scopes a credential carried, and what each event
# acted on, by event. Events loaded before carry no resources: a responder re-ingests the
# evidence into a new case to have them (the files are referenced, not copied).
RESOURCES = """
ALTER TABLE credential_refs ADD COLUMN IF NOT EXISTS scopes VARCHAR[];
CREATE TABLE IF NOT EXISTS event_resources (
    event_key BIGINT NOT NULL, type VARCHAR NOT NULL, id VARCHAR NOT NULL,
    name VARCHAR, access VARCHAR
);
CREATE INDEX IF NOT EXISTS event_resources_event_key ON event_resources (event_key);
"""
UNLOADED_FILES = """
CREATE TABLE IF NOT EXISTS unloaded_files (
    path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, source VARCHAR,
    reason VARCHAR NOT NULL, seen_at TIMESTAMPTZ NOT NULL
);
"""
# `ir collect` writes each page or object it fetched as a file and ingests it: the file's
# row says which request fetched it (URL without secrets), when and with what status.
COLLECTED_FILES = """
ALTER TABLE evidence_files ADD COLUMN IF NOT EXISTS request VARCHAR;
ALTER TABLE evidence_files ADD COLUMN IF NOT EXISTS fetched_at TIMESTAMPTZ;
ALTER TABLE evidence_files ADD COLUMN IF NOT EXISTS http_status INTEGER;
"""
MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "indexes for the trace's lookups", TRACE_INDEXES),
    Migration(3, "a stable content hash (SHA-256)", STABLE_CONTENT_HASH),
    Migration(
        4,
        "playbook journal: plan, provider, action, target, credentials, step",
        JOURNAL_STEP_COLUMNS,
    ),
    Migration(
        5,
        "when issued credentials expire, where the vendor logs it",
        "ALTER TABLE credential_refs ADD COLUMN IF NOT EXISTS expires_at TIMESTAMPTZ",
    ),
    Migration(6, "events per source, tenant, file and hour (coverage)", EVENT_HOURS),
    Migration(7, "resources events acted on, scopes credentials carried (impact)", RESOURCES),
    Migration(8, "files ingest could not load, kept in the case", UNLOADED_FILES),
    Migration(9, "collected evidence: the request that fetched a file", COLLECTED_FILES),
)


class CaseError(IrError):
    """A case file that cannot be opened or used; the message says why and what to do."""


class Store:
    """An open case file: the DuckDB connection and where it lives. Use `open_store`."""

    def __init__(self, path: Path, connection: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self.path = path
        self.connection = connection
        self.read_only = read_only

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}, read_only={self.read_only})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.connection.close()


def open_store(
    path: str | Path = "case.duckdb",
    read_only: bool = False,
    *,
    lock_timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Store:
    """Open (or create) a case file.

    Another process writing the case holds DuckDB's file lock: wait for it up to
    `lock_timeout` seconds (`on_wait` hears why, once). A case of an older schema is
    migrated, read-only opens included; a newer or damaged one raises CaseError.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise CaseError(f"{path}: no such case file; create it with `ir ingest --case {path} …`")
    timeout = LOCK_TIMEOUT_SECONDS if lock_timeout is None else lock_timeout
    connection = _connect(path, read_only, timeout, on_wait)
    store = Store(path, connection, read_only)
    try:
        stale = _prepare(store)
    except BaseException:
        connection.close()
        raise
    if not stale:
        return store
    connection.close()  # read-only on an older schema: migrate with a brief write, reopen
    open_store(path, lock_timeout=timeout, on_wait=on_wait).close()
    return open_store(path, read_only=True, lock_timeout=timeout, on_wait=on_wait)


def _connect(
    path: Path, read_only: bool, timeout: float, on_wait: Callable[[str], None] | None
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise CaseError(damaged(path, error)) from None
            holder = _lock_holder(error)
            if time.monotonic() >= deadline:
                raise CaseError(
                    f"{path}: {holder} still holds the case file; waited {timeout:g} s."
                    " Try again when it has finished, or wait longer (IR_LOCK_TIMEOUT=seconds)"
                ) from None
            if on_wait and not told:
                on_wait(
                    f"{path}: {holder} is writing the case (DuckDB allows one writer and no"
                    f" readers meanwhile); waiting up to {timeout:g} s for it to finish…"
                )
                told = True
            time.sleep(0.2)
        except duckdb.Error as error:
            raise CaseError(damaged(path, error)) from None


def _lock_holder(error: duckdb.Error) -> str:
    pid = re.search(r"\(PID (\d+)\)", str(error))
    return f"another process (PID {pid.group(1)})" if pid else "another process"


def damaged(path: Path | str, error: BaseException) -> str:
    """The one-line message for a case file DuckDB cannot read."""
    first = first_line(error)
    if DAMAGE.search(first):
        return (
            f"{path}: the case file is damaged or not a DuckDB database ({first}); restore it"
            " from a copy, or ingest the evidence again into a new case"
        )
    return f"{path}: cannot open the case file ({first})"


def first_line(error: BaseException) -> str:
    """The first line of an error message (DuckDB adds context lines below)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _prepare(store: Store) -> bool:
    """Session settings, then the schema: create, check, or migrate. True when a
    read-only case needs migrating first."""
    connection = store.connection
    try:
        _check_file_backed(store)
        connection.execute("SET TimeZone = 'UTC'")
        # A join's small side becomes an IN filter on the other side's scan, which an
        # index answers: up to 10,000 keys (DuckDB's default, 50, sent a trace of a
        # credential with 118 events through a scan of all events).
        connection.execute("SET dynamic_or_filter_threshold = 10000")
        version = _schema_version(store)
    except duckdb.Error as error:
        raise CaseError(damaged(store.path, error)) from None
    if version is None:
        _create(store)
    elif version > SCHEMA_VERSION:
        raise CaseError(
            f"{store.path}: case schema {version} is newer than this ir ({SCHEMA_VERSION});"
            " upgrade ir (pip install -U …) to open it"
        )
    elif version < SCHEMA_VERSION:
        if store.read_only:
            return True
        _migrate(store, version)
    return False


def _check_file_backed(store: Store) -> None:
    """DuckDB opens an existing JSON, CSV or Parquet file as an in-memory database that reads
    it as data: a case there would be written nowhere. Refuse it as not a case file (an
    in-memory case asked for by name, `:memory:`, is what it says)."""
    if str(store.path) == IN_MEMORY:
        return
    row = store.connection.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    if row is None or row[0] is None:
        raise CaseError(
            f"{store.path}: not a DuckDB database (a data file DuckDB would only read); give"
            " the case file, or a new path for one"
        )


def _create(store: Store) -> None:
    connection = store.connection
    tables = connection.execute("SELECT count(*) FROM duckdb_tables() WHERE NOT temporary")
    if (tables.fetchone() or (0,))[0]:
        raise CaseError(
            f"{store.path}: a DuckDB database but not an ir case (other tables, no case_meta);"
            " give another --case path"
        )
    if store.read_only:
        raise CaseError(f"{store.path}: not an ir case file (no case_meta table)")
    # One transaction: a process killed while creating leaves no case without its version.
    connection.execute("BEGIN TRANSACTION")
    connection.execute(files("ir").joinpath("schema.sql").read_text())
    connection.execute("INSERT INTO case_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    connection.execute("COMMIT")


def _migrate(store: Store, version: int) -> None:
    """Every step from `version` to SCHEMA_VERSION in one transaction: all or nothing."""
    steps = {m.version: m for m in MIGRATIONS}
    missing = [v for v in range(version + 1, SCHEMA_VERSION + 1) if v not in steps]
    if missing:
        raise CaseError(
            f"{store.path}: case schema {version} is too old for this ir ({SCHEMA_VERSION}):"
            f" no migration to schema {missing[0]}; open it with an older ir and export"
        )
    connection = store.connection
    connection.execute("BEGIN TRANSACTION")
    step = steps[version + 1]
    try:
        for step in (steps[v] for v in range(version + 1, SCHEMA_VERSION + 1)):
            connection.execute(step.sql)
        connection.execute(
            "UPDATE case_meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)]
        )
        connection.execute("COMMIT")
    except duckdb.Error as error:
        connection.execute("ROLLBACK")
        raise CaseError(
            f"{store.path}: could not migrate the case from schema {version} to"
            f" {SCHEMA_VERSION} (step {step.version}, {step.why}: {first_line(error)});"
            " the file is unchanged"
        ) from None


def _schema_version(store: Store) -> int | None:
    connection = store.connection
    exists = connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'case_meta' AND NOT temporary"
    ).fetchone()
    if not exists or not exists[0]:
        return None
    row = connection.execute("SELECT value FROM case_meta WHERE key = 'schema_version'").fetchone()
    if row is None or not str(row[0]).isdigit():
        raise CaseError(
            f"{store.path}: the case file is damaged (case_meta has no schema_version number);"
            " restore it from a copy"
        )
    return int(row[0])
