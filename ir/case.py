"""The case file: one DuckDB database per incident.

`open_case` creates the schema on first open and checks its version after; a
second writer waits for the file lock (DuckDB allows one writing process) and
gives up with a clear message. Library code returns data and raises typed
errors; rendering belongs to the CLI and notebooks.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import orjson
import pandas as pd
import pyarrow as pa

from ir.credentials import fingerprint_ids, normalise_id
from parsers.base import SQL_MACROS

if TYPE_CHECKING:
    import networkx as nx

    from ir.ingest import FileReport, Progress
    from ir.trace import Trace

SCHEMA_VERSION = 3
LOCK_TIMEOUT_SECONDS = 60.0
# What DuckDB says about a damaged file, at open or at the first read of a bad block.
DAMAGE = re.compile(
    r"Corrupt database file|not a valid DuckDB database|Could not read enough bytes"
    r"|checksum|replaying WAL|WAL file",
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
"""
MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "indexes for the trace's lookups", TRACE_INDEXES),
    Migration(
        3, "playbook journal: plan, provider, action, target, credentials", JOURNAL_STEP_COLUMNS
    ),
)


class CaseError(RuntimeError):
    """A case file that cannot be opened or used; the message says why and what to do."""


class Case:
    """An open case file. Use `ir.open_case(path)`."""

    def __init__(self, path: Path, connection: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self.path = path
        self.connection = connection
        self.read_only = read_only

    def __repr__(self) -> str:
        return f"Case({str(self.path)!r})"

    def _repr_html_(self) -> str:
        """Jupyter's rich display: totals and per-source stats (escaped, ir.display)."""
        from ir import display

        return display.case_html(self)

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.connection.close()

    def sql(self, query: str, parameters: list[Any] | None = None) -> pd.DataFrame:
        """Run a query on the case and return a DataFrame (times tz-aware, UTC)."""
        return self.connection.execute(query, parameters or []).fetchdf()

    def ingest(
        self,
        *paths: str | Path,
        source: str | None = None,
        progress: Progress | None = None,
        mappings: Iterable[str | Path] = (),
    ) -> list[FileReport]:
        """`mappings`: folders of mapping files (sources defined without Python)."""
        from ir.ingest import ingest

        paths_ = [Path(p) for p in paths]
        return ingest(self, paths_, source=source, progress=progress, mappings=mappings)

    def trace(
        self,
        *ids: str,
        token: str | None = None,
        leaked_at: str | pd.Timestamp | None = None,
    ) -> Trace:
        """Trace credential ids (`kind:value`), or a raw `token` by its fingerprint ids.

        The raw token stays in this call: only the ids derived from it are kept.
        """
        from ir.trace import trace

        query = fingerprint_ids(token) if token is not None else list(ids)
        if not query:
            raise ValueError("give at least one credential id, or token=")
        roots = [normalise_id(credential) for credential in query]
        exposure = None if leaked_at is None else _utc(leaked_at)
        return trace(self.connection, roots, query=query, leaked_at=exposure)

    def timeline(
        self, since: str | pd.Timestamp | None = None, until: str | pd.Timestamp | None = None
    ) -> pd.DataFrame:
        """Every event of the case in [since, until) as a Timesketch-ready timeline (ir.timeline)."""
        from ir.timeline import from_case

        return from_case(self.connection, since, until)

    def graph(self) -> nx.MultiDiGraph:
        """The whole case's credential lineage (parent -> child, one edge per issuing event)."""
        from ir.graph import case_graph

        return case_graph(self.connection)

    def sandbox(self) -> None:
        """No files, network or extensions outside the case for the rest of this connection,
        and no SET can undo it: for running SQL a user typed (`ir sql`)."""
        self.connection.execute("SET enable_external_access = false")
        self.connection.execute("SET lock_configuration = true")

    def verify_evidence(self) -> pd.DataFrame:
        """Re-hash every evidence file: status ok, changed, missing or unreadable (ir.evidence)."""
        from ir.evidence import verify

        return verify(self.connection)

    def raw_record(self, event: str | int) -> dict[str, Any]:
        """The vendor record behind an event, re-read from its evidence file.

        `event`: `<source>:<source_event_id>`, an event_key, or `<file>#<record>`. Raises
        ir.evidence.EvidenceError when the file changed since ingest.
        """
        from ir.evidence import raw_record

        return raw_record(self.connection, str(event))

    def stats(self) -> pd.DataFrame:
        """Per source: files, events, credentials, rejects, time span."""
        return self.sql(
            """
            SELECT e.source, count(DISTINCT e.file_id) AS files, count(*) AS events,
                   (SELECT count(DISTINCT c.credential) FROM credential_refs c
                      JOIN events x USING (event_key) WHERE x.source = e.source) AS credentials,
                   (SELECT count(*) FROM rejects r WHERE r.source = e.source) AS rejected,
                   min(e.time) AS first_event, max(e.time) AS last_event
            FROM events e GROUP BY e.source ORDER BY e.source
            """
        )


def open_case(
    path: str | Path = "case.duckdb",
    read_only: bool = False,
    *,
    lock_timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Case:
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
    case = Case(path, connection, read_only)
    try:
        stale = _prepare(case)
    except BaseException:
        connection.close()
        raise
    if not stale:
        return case
    connection.close()  # read-only on an older schema: migrate with a brief write, reopen
    open_case(path, lock_timeout=timeout, on_wait=on_wait).close()
    return open_case(path, read_only=True, lock_timeout=timeout, on_wait=on_wait)


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
    first = _first_line(error)
    if DAMAGE.search(first):
        return (
            f"{path}: the case file is damaged or not a DuckDB database ({first}); restore it"
            " from a copy, or ingest the evidence again into a new case"
        )
    return f"{path}: cannot open the case file ({first})"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _prepare(case: Case) -> bool:
    """Session settings, then the schema: create, check, or migrate. True when a
    read-only case needs migrating first."""
    connection = case.connection
    try:
        connection.execute("SET TimeZone = 'UTC'")
        # A join's small side becomes an IN filter on the other side's scan, which an
        # index answers: up to 10,000 keys (DuckDB's default, 50, sent a trace of a
        # credential with 118 events through a scan of all events).
        connection.execute("SET dynamic_or_filter_threshold = 10000")
        for macro in SQL_MACROS:
            connection.execute(macro)
        connection.create_function(
            "ir_canonical_sha256", _canonical_sha256, ["VARCHAR"], "VARCHAR", type="arrow"
        )
        version = _schema_version(case)
    except duckdb.Error as error:
        raise CaseError(damaged(case.path, error)) from None
    if version is None:
        _create(case)
    elif version > SCHEMA_VERSION:
        raise CaseError(
            f"{case.path}: case schema {version} is newer than this ir ({SCHEMA_VERSION});"
            " upgrade ir (pip install -U …) to open it"
        )
    elif version < SCHEMA_VERSION:
        if case.read_only:
            return True
        _migrate(case, version)
    return False


def _create(case: Case) -> None:
    connection = case.connection
    tables = connection.execute("SELECT count(*) FROM duckdb_tables() WHERE NOT temporary")
    if (tables.fetchone() or (0,))[0]:
        raise CaseError(
            f"{case.path}: a DuckDB database but not an ir case (other tables, no case_meta);"
            " give another --case path"
        )
    if case.read_only:
        raise CaseError(f"{case.path}: not an ir case file (no case_meta table)")
    connection.execute(files("ir").joinpath("schema.sql").read_text())
    connection.execute("INSERT INTO case_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def _migrate(case: Case, version: int) -> None:
    """Every step from `version` to SCHEMA_VERSION in one transaction: all or nothing."""
    steps = {m.version: m for m in MIGRATIONS}
    missing = [v for v in range(version + 1, SCHEMA_VERSION + 1) if v not in steps]
    if missing:
        raise CaseError(
            f"{case.path}: case schema {version} is too old for this ir ({SCHEMA_VERSION}):"
            f" no migration to schema {missing[0]}; open it with an older ir and export"
        )
    connection = case.connection
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
            f"{case.path}: could not migrate the case from schema {version} to"
            f" {SCHEMA_VERSION} (step {step.version}, {step.why}: {_first_line(error)});"
            " the file is unchanged"
        ) from None


def _utc(value: str | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _schema_version(case: Case) -> int | None:
    connection = case.connection
    exists = connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'case_meta' AND NOT temporary"
    ).fetchone()
    if not exists or not exists[0]:
        return None
    row = connection.execute("SELECT value FROM case_meta WHERE key = 'schema_version'").fetchone()
    if row is None or not str(row[0]).isdigit():
        raise CaseError(
            f"{case.path}: the case file is damaged (case_meta has no schema_version number);"
            " restore it from a copy"
        )
    return int(row[0])


def _canonical_sha256(records: pa.Array) -> pa.Array:
    """SHA-256 of canonical JSON (sorted keys, no whitespace): ids for records without one.

    A Python UDF, but it only runs for records whose vendor gives no id.
    """
    return pa.array(
        [None if text is None else _canonical_digest(text) for text in records.to_pylist()],
        type=pa.string(),
    )


def _canonical_digest(text: str) -> str:
    """A record orjson cannot round-trip (nested deeper than it recurses, a number beyond
    a double) is hashed as DuckDB minified it: still one stable id for the same record."""
    try:
        canonical = orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONDecodeError, TypeError):
        canonical = text.encode()
    return hashlib.sha256(canonical).hexdigest()
