"""Timelines: one row per event, ready for Timesketch, with a sentence a responder can read.

Rows carry Timesketch's three mandatory columns (`message`, `datetime` ISO 8601
UTC, `timestamp_desc`) plus `timestamp` in epoch microseconds, so a `.csv` or
`.jsonl` file imports as it is (contract §5). A trace timeline holds exactly
the traced events; a case timeline every event of the case in a time window.

An event that used one traced credential and issued another is one row: its
`credential`/`relation` name what it acted with (the used credential when there
is one), `issued`/`revoked` list the others. Every cell comes from logs an
attacker can write to, so the CSV export neutralises cells a spreadsheet would
run as a formula unless `raw=True`.

The rows, their sentences and their CSV/JSON text are built in SQL and written in
record batches, so a whole-case export streams from the case with flat memory; a
trace's rows (DataFrames) go through the same SQL in an in-memory DuckDB.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any, TextIO

import duckdb
import numpy as np
import pandas as pd

from ir.errors import UsageError
from ir.render import FORMULA_STARTS
from ir.render import neutralise as neutralise
from ir.sql import literals
from ir.times import Time, window

if TYPE_CHECKING:
    from ir.trace import Trace

TIMESTAMP_DESC = "Event time"
FORMATS = ("csv", "jsonl")
COLUMNS = [
    "datetime",
    "timestamp",
    "timestamp_desc",
    "message",
    "source",
    "source_event_id",
    "action",
    "credential",
    "relation",
    "issued",
    "revoked",
    "actor",
    "tenant",
    "client_ip",
    "user_agent",
    "country",
    "asn",
    "outcome",
    "error",
    "after_revocation",
    "after_ancestor_revocation",
    "after_expiry",
    "new_place",
    "evidence",
    "evidence_sha256",
]
_BATCH_ROWS = 50_000  # rows per record batch written: memory stays flat with the case size
# A case timeline is sorted and written in consecutive time windows of about this many
# events (whole hours): memory holds one window, whatever the size of the case.
CHUNK_EVENTS = 50_000
_BOOLEANS = ("after_revocation", "after_ancestor_revocation", "after_expiry", "new_place")
_LISTS = ("issued", "revoked")

# The words of a row's sentence, and its CSV cells, as SQL macros.
_MACROS = (
    # The part of an ARN after its fifth colon (after the last, with fewer).
    r"""CREATE OR REPLACE TEMP MACRO ir_tl_resource(arn) AS CASE
        WHEN regexp_matches(arn, '(?s)^(?:[^:]*:){5}')
        THEN regexp_extract(arn, '(?s)^(?:[^:]*:){5}(.*)$', 1)
        ELSE regexp_extract(arn, '(?s)([^:]*)$', 1) END""",
    r"CREATE OR REPLACE TEMP MACRO ir_tl_last(path) AS regexp_extract(path, '(?s)([^/]*)$', 1)",
    r"""CREATE OR REPLACE TEMP MACRO ir_tl_after(text, mark) AS
        CASE WHEN contains(text, mark) THEN substr(text, strpos(text, mark) + 1) ELSE '' END""",
    r"""CREATE OR REPLACE TEMP MACRO ir_tl_arn_who(resource, rest) AS CASE
        WHEN split_part(resource, '/', 1) = 'assumed-role' THEN 'role ' || split_part(rest, '/', 1)
        WHEN split_part(resource, '/', 1) = 'role' THEN 'role ' || ir_tl_last(rest)
        WHEN rest <> '' THEN ir_tl_last(rest)
        ELSE split_part(resource, '/', 1) END""",
    # A short name for a principal: `ci-deployer` for an IAM user ARN, `role Admin` for a
    # session, the actor as logged otherwise.
    r"""CREATE OR REPLACE TEMP MACRO ir_tl_who(actor) AS CASE
        WHEN actor IS NULL OR actor = '' THEN 'unknown actor'
        WHEN NOT starts_with(actor, 'arn:') THEN actor
        ELSE ir_tl_arn_who(ir_tl_resource(actor), ir_tl_after(ir_tl_resource(actor), '/')) END""",
    # A credential's value without its kind (`AKIA…` of `aws_access_key:AKIA…`).
    r"""CREATE OR REPLACE TEMP MACRO ir_tl_value(credential) AS
        coalesce(nullif(ir_tl_after(credential, ':'), ''), credential)""",
    r"""CREATE OR REPLACE TEMP MACRO ir_tl_noun(credential) AS CASE split_part(credential, ':', 1)
        WHEN 'aws_access_key' THEN 'key' WHEN 'github_token' THEN 'token'
        ELSE replace(split_part(credential, ':', 1), '_', ' ') END""",
    r"""CREATE OR REPLACE TEMP MACRO ir_tl_values(credentials) AS
        array_to_string(list_transform(credentials, lambda c: ir_tl_value(c)), ', ')""",
    # A CSV cell as Python's csv module writes it (QUOTE_MINIMAL, CRLF rows: a CR or LF
    # inside a cell is quoted, so a log line cannot forge a row), made inert for a
    # spreadsheet when `safe` (ir.render.neutralise); contains() costs a third of a regex.
    "CREATE OR REPLACE TEMP MACRO ir_tl_safe(v, safe) AS CASE WHEN safe AND"
    f" left(v, 1) IN ({literals(FORMULA_STARTS)}) THEN '''' || v ELSE v END",
    """CREATE OR REPLACE TEMP MACRO ir_tl_cell(v, safe) AS CASE WHEN v IS NULL THEN ''
        WHEN contains(v, ',') OR contains(v, '"') OR contains(v, chr(13)) OR contains(v, chr(10))
        THEN '"' || replace(ir_tl_safe(v, safe), '"', '""') || '"'
        ELSE ir_tl_safe(v, safe) END""",
    r"""CREATE OR REPLACE TEMP MACRO ir_tl_bool(v) AS
        CASE WHEN v THEN 'True' WHEN NOT v THEN 'False' ELSE '' END""",
)

# One row per event of `ir_events`, with its refs from `ir_refs` (none for an event that
# names no credential): the used credential first, then issued, then revoked, by id; the
# issued and revoked ones listed; a flag true when any of the event's refs says so.
# `ir_principals` says whose each issued credential is, for the sentence. The refs are
# collapsed on their own (a few narrow columns), then joined to their events.
_ROWS_SQL = """
, ordered AS (
    SELECT *, CASE relation WHEN 'used' THEN 0 WHEN 'issued' THEN 1 WHEN 'revoked' THEN 2
              ELSE 3 END AS ir_order
    FROM ir_refs
),
collapsed AS (
    SELECT ir_event,
        first({'credential': credential, 'relation': relation, 'new_place': new_place}
              ORDER BY ir_order, credential) AS f,
        list(credential ORDER BY credential) FILTER (WHERE relation = 'issued') AS issued,
        list(credential ORDER BY credential) FILTER (WHERE relation = 'revoked') AS revoked,
        bool_or(relation = 'revoked' AND coalesce(via, '') LIKE '%(user-wide)') AS user_wide,
        bool_or(after_revocation) AS after_revocation,
        bool_or(after_ancestor_revocation) AS after_ancestor_revocation,
        bool_or(after_expiry) AS after_expiry
    FROM ordered GROUP BY ir_event
),
-- Short names worked out once per distinct actor and issued credential, not per row.
actors AS (SELECT actor, ir_tl_who(actor) AS who FROM (SELECT DISTINCT actor FROM ir_events)),
owners AS (SELECT credential, ir_tl_who(principal) AS who FROM ir_principals
           WHERE coalesce(principal, '') <> '')
SELECT e.time AS datetime, epoch_us(e.time) AS timestamp, 'Event time' AS timestamp_desc,
    coalesce(a.who, 'unknown actor')
    || CASE WHEN r.f.relation = 'used' THEN ' ' || ir_tl_noun(r.f.credential) || ' '
            || ir_tl_after(r.f.credential, ':') ELSE '' END
    || ' ' || coalesce(nullif(e.action, ''), '(no action logged)')
    || coalesce(' (' || p.who || ')', '')
    || CASE WHEN coalesce(e.client_ip, '') <> '' THEN ' from ' || e.client_ip ELSE '' END
    || CASE WHEN len(r.issued) > 0 THEN ' → issued ' || ir_tl_values(r.issued) ELSE '' END
    || CASE WHEN len(r.revoked) > 0 THEN ' → revoked ' || ir_tl_values(r.revoked)
            || CASE WHEN r.user_wide THEN ' (user-wide)' ELSE '' END ELSE '' END
    || CASE WHEN e.outcome = 'failure' AND coalesce(e.error, '') <> ''
            THEN ' — failed (' || e.error || ')'
            WHEN e.outcome = 'failure' THEN ' — failed' ELSE '' END
    || CASE WHEN r.after_revocation THEN ' — used after its revocation'
            WHEN r.after_ancestor_revocation
            THEN ' — used after the credential it derives from was revoked' ELSE '' END
    || CASE WHEN r.after_expiry THEN ' — used after it expired' ELSE '' END
    AS message,
    e.source, e.source_event_id, e.action, r.f.credential, r.f.relation,
    CASE WHEN len(r.issued) > 0 THEN r.issued END AS issued,
    CASE WHEN len(r.revoked) > 0 THEN r.revoked END AS revoked,
    e.actor, e.tenant, e.client_ip, e.user_agent, e.country, e.asn, e.outcome, e.error,
    -- an event that names no credential was not used after a revocation
    coalesce(r.after_revocation, false) AS after_revocation, r.after_ancestor_revocation,
    coalesce(r.after_expiry, false) AS after_expiry, r.f.new_place, e.evidence, e.evidence_sha256
FROM ir_events e LEFT JOIN collapsed r USING (ir_event)
LEFT JOIN actors a ON a.actor = e.actor LEFT JOIN owners p ON p.credential = r.issued[1]
ORDER BY e.time, e.source, e.source_event_id
"""

# A case's events in the window, their refs, and whose each issued credential is (what its
# latest issuance in the window says). `after_revocation`: a use while the credential's
# last successful state change was a revocation, looked up only for credentials ever revoked;
# `after_expiry`: a use after the expiry its last successful issuance logged.
_CASE_REFS_SQL = """
WITH ir_events AS (
    SELECT e.event_key AS ir_event, e.time, e.source, e.source_event_id, e.action, e.actor,
           e.tenant, e.client_ip, e.user_agent, e.country, e.asn, e.outcome, e.error,
           f.path || '#' || e.record_no AS evidence, f.sha256 AS evidence_sha256
    FROM events e JOIN evidence_files f USING (file_id)
    WHERE ($3::TIMESTAMPTZ IS NULL OR e.time >= $3::TIMESTAMPTZ)
      AND ($4::TIMESTAMPTZ IS NULL OR e.time < $4::TIMESTAMPTZ)
),
window_refs AS (
    SELECT c.event_key AS ir_event, c.credential, c.relation, c.via, c.principal,
           e.time, e.source, e.source_event_id
    FROM credential_refs c JOIN ir_events e ON c.event_key = e.ir_event
),
changes AS (
    SELECT c.credential, e.time, c.relation AS state
    FROM credential_refs c JOIN events e USING (event_key)
    WHERE c.relation IN ('issued', 'revoked') AND e.outcome = 'success'
      AND c.credential IN (SELECT credential FROM credential_refs WHERE relation = 'revoked')
),
late AS (
    SELECT DISTINCT r.ir_event, r.credential
    FROM (SELECT * FROM window_refs
          WHERE relation = 'used' AND credential IN (SELECT credential FROM changes)) r
    ASOF JOIN changes s ON r.credential = s.credential AND r.time > s.time
    WHERE s.state = 'revoked'
),
expiries AS (
    SELECT c.credential, e.time, c.expires_at
    FROM credential_refs c JOIN events e USING (event_key)
    WHERE c.relation = 'issued' AND e.outcome = 'success' AND c.expires_at IS NOT NULL
),
expired AS (
    SELECT DISTINCT r.ir_event, r.credential
    FROM (SELECT * FROM window_refs
          WHERE relation = 'used' AND credential IN (SELECT credential FROM expiries)) r
    ASOF JOIN expiries s ON r.credential = s.credential AND r.time > s.time
    WHERE r.time > s.expires_at
),
ir_refs AS (
    SELECT r.ir_event, r.credential, r.relation, r.via,
           r.relation = 'used' AND l.ir_event IS NOT NULL AS after_revocation,
           NULL::BOOLEAN AS after_ancestor_revocation,
           r.relation = 'used' AND x.ir_event IS NOT NULL AS after_expiry,
           NULL::BOOLEAN AS new_place
    FROM window_refs r LEFT JOIN late l ON l.ir_event = r.ir_event AND l.credential = r.credential
    LEFT JOIN expired x ON x.ir_event = r.ir_event AND x.credential = r.credential
),
ir_principals AS (
    SELECT c.credential, last(c.principal ORDER BY e.time, e.source, e.source_event_id) AS principal
    FROM credential_refs c JOIN events e USING (event_key)
    WHERE c.relation = 'issued'
      AND c.credential IN (SELECT credential FROM window_refs WHERE relation = 'issued')
      AND ($1::TIMESTAMPTZ IS NULL OR e.time >= $1::TIMESTAMPTZ)
      AND ($2::TIMESTAMPTZ IS NULL OR e.time < $2::TIMESTAMPTZ)
    GROUP BY c.credential
)"""
# Hours of the window with their events: where a case timeline's chunks may end.
_HOURS_SQL = """
SELECT date_trunc('hour', time) AS hour, count(*) AS events FROM events
WHERE ($1::TIMESTAMPTZ IS NULL OR time >= $1::TIMESTAMPTZ)
  AND ($2::TIMESTAMPTZ IS NULL OR time < $2::TIMESTAMPTZ)
GROUP BY 1 ORDER BY 1
"""
# A trace's refs as the trace found them (flags and new places included), in a window;
# an event is its (source, source_event_id).
_TRACE_REFS_SQL = """
WITH windowed AS (
    SELECT *, {'source': source, 'id': source_event_id} AS ir_event FROM ir_trace_events
    WHERE ($1::TIMESTAMPTZ IS NULL OR time >= $1::TIMESTAMPTZ)
      AND ($2::TIMESTAMPTZ IS NULL OR time < $2::TIMESTAMPTZ)
),
ir_events AS (
    SELECT DISTINCT ON (ir_event) ir_event, time, source, source_event_id, action, actor,
           tenant, client_ip, user_agent, country, asn, outcome, error, evidence,
           evidence_sha256
    FROM windowed
),
ir_refs AS (
    SELECT ir_event, credential, relation, via, after_revocation, after_ancestor_revocation,
           after_expiry, new_place
    FROM windowed
),
ir_principals AS (SELECT id AS credential, principal FROM ir_trace_credentials)"""
# Rows handed in as a DataFrame of the timeline's columns (`text`), typed as the SQL made them.
_FRAME_SQL = (
    "SELECT "
    + ", ".join(
        f"CAST({c} AS VARCHAR[]) AS {c}"
        if c in _LISTS
        else f"CAST({c} AS BOOLEAN) AS {c}"
        if c in _BOOLEANS
        else "CAST(datetime AS TIMESTAMPTZ) AS datetime"
        if c == "datetime"
        else c
        for c in COLUMNS
    )
    + " FROM ir_timeline_frame"
)


@dataclass
class Timeline:
    """Timeline rows as a query on a connection: a DataFrame, or CSV/JSONL text streamed out."""

    connection: duckdb.DuckDBPyConnection
    query: str
    parameters: list[Any] = field(default_factory=list)
    # The query's parameters for each consecutive part `write` runs (default: the whole).
    parts: list[list[Any]] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """The rows; `issued`/`revoked` as lists (None when empty), times tz-aware UTC."""
        frame = self.connection.execute(self.query, self.parameters).fetchdf()
        for column in _LISTS:
            frame[column] = [_listed(v) for v in frame[column].tolist()]
        return frame

    def write(self, out: TextIO, fmt: str, raw: bool = False) -> int:
        """Write the rows as CSV (formula cells neutralised unless `raw`) or JSON Lines, a
        record batch at a time; returns how many rows."""
        if fmt not in FORMATS:
            raise UsageError(f"timeline format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        if fmt == "csv":
            out.write(",".join(COLUMNS) + "\r\n")
        line = _CSV_LINE.format(safe="false" if raw else "true") if fmt == "csv" else _JSON_LINE
        query = f"SELECT {line} AS line FROM ({self.query})"
        written = 0
        for parameters in self.parts or [self.parameters]:
            reader = self.connection.sql(query, params=parameters).to_arrow_reader(_BATCH_ROWS)
            for batch in reader:
                out.write("".join(batch.column(0).to_pylist()))
                written += batch.num_rows
        return written


def _listed(value: Any) -> list[str] | None:
    """A list cell as a Python list; missing (None, NA) as None."""
    return list(value) if isinstance(value, (list, tuple, np.ndarray)) else None


def _iso(column: str) -> str:
    """ISO 8601 UTC with `Z`, microseconds when present: the same instant as `timestamp`."""
    utc = f"timezone('UTC', {column})"
    return (
        f"CASE WHEN epoch_us({column}) % 1000000 = 0 THEN strftime({utc}, '%Y-%m-%dT%H:%M:%SZ')"
        f" ELSE strftime({utc}, '%Y-%m-%dT%H:%M:%S.%fZ') END"
    )


def _csv_cell(column: str) -> str:
    """A column as its CSV cell: as Python's csv module wrote str(value), lists as JSON.
    Cells built here (times, flags, hex digests) hold nothing to quote or neutralise."""
    if column == "datetime":
        return _iso(column)
    if column in ("timestamp", "timestamp_desc", "evidence_sha256"):
        return f"coalesce(CAST({column} AS VARCHAR), '')"
    if column in _BOOLEANS:
        return f"ir_tl_bool({column})"
    if column in _LISTS:  # JSON text always holds quotes
        json = f"CAST(to_json({column}) AS VARCHAR)"
        return f"""coalesce('"' || replace({json}, '"', '""') || '"', '')"""
    return f"ir_tl_cell({column}, {{safe}})"


# One text line per row: CSV as Python's csv module writes it, JSON an object of the
# columns in order (a control character comes out as \u001B where orjson wrote \u001b:
# the same JSON string).
_CSV_LINE = "concat_ws(',', " + ", ".join(_csv_cell(c) for c in COLUMNS) + ") || '\r\n'"
_JSON_LINE = (
    "CAST(to_json({"
    + ", ".join(f"'{c}': {_iso(c) if c == 'datetime' else c}" for c in COLUMNS)
    + "}) AS VARCHAR) || '\n'"
)


def of_case(
    connection: duckdb.DuckDBPyConnection, since: Time = None, until: Time = None
) -> Timeline:
    """Every event of the case in [since, until), whether or not it names a credential."""
    start, end = window(since, until)
    _register(connection)
    parts = [[start, end, low, high] for low, high in _chunks(connection, start, end)]
    return Timeline(connection, _CASE_REFS_SQL + _ROWS_SQL, [start, end, start, end], parts)


def _chunks(connection: duckdb.DuckDBPyConnection, start: Any, end: Any) -> list[tuple[Any, Any]]:
    """Consecutive windows covering [start, end), cut at whole hours once about
    CHUNK_EVENTS events are in: sorted one after another, they are the case's order."""
    edges: list[Any] = []
    held = 0
    for hour, events in connection.execute(_HOURS_SQL, [start, end]).fetchall():
        if held and held + events > CHUNK_EVENTS:
            edges.append(hour)
            held = 0
        held += events
    bounds = [start, *edges, end]
    return list(pairwise(bounds))


def of_trace(trace: Trace, since: Time = None, until: Time = None) -> Timeline:
    """The traced events, one row per event; `new_place` as the trace's places say."""
    start, end = window(since, until)
    connection = _scratch()
    connection.register("ir_trace_events", trace.events)
    connection.register("ir_trace_credentials", trace.credentials[["id", "principal"]])
    return Timeline(connection, _TRACE_REFS_SQL + _ROWS_SQL, [start, end])


def from_trace(trace: Trace, since: Time = None, until: Time = None) -> pd.DataFrame:
    """The traced events, one row per event, as a DataFrame."""
    return of_trace(trace, since, until).frame()


def from_case(
    connection: duckdb.DuckDBPyConnection, since: Time = None, until: Time = None
) -> pd.DataFrame:
    """Every event of the case in [since, until), as a DataFrame."""
    return of_case(connection, since, until).frame()


def text(frame: pd.DataFrame, fmt: str, raw: bool = False) -> str:
    """CSV (formula cells neutralised unless `raw`) or JSON Lines text of a timeline's rows."""
    connection = _scratch()
    try:
        connection.register("ir_timeline_frame", frame.reindex(columns=COLUMNS))
        buffer = io.StringIO()
        Timeline(connection, _FRAME_SQL).write(buffer, fmt, raw)
        return buffer.getvalue()
    finally:
        connection.close()


def _scratch() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for rows handed in as DataFrames."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    _register(connection)
    return connection


def _register(connection: duckdb.DuckDBPyConnection) -> None:
    for macro in _MACROS:
        connection.execute(macro)
