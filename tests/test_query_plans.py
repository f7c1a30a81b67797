"""A trace reads the case through its indexes: checked by query plan, not by clock (issue 11).

Every statement a trace runs is recorded, then EXPLAIN ANALYZEd with its own
parameters: each scan of `events` or `credential_refs` must be an index scan. A
statement that loses its index (one more filter on a scan, a join DuckDB plans
differently, a DuckDB upgrade) fails here on a small case, long before a
10M-event case makes it slow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

import ir
from ir.synth import generate

# Large enough that DuckDB weighs an index against a scan as it does on a real case.
EVENTS = 30_000
INDEXED_TABLES = ("events", "credential_refs")


@dataclass
class Recording:
    """Stands in for the case connection and keeps every statement run through it."""

    connection: duckdb.DuckDBPyConnection
    statements: list[tuple[str, list[Any]]] = field(default_factory=list)

    def execute(self, sql: str, parameters: list[Any] | None = None) -> duckdb.DuckDBPyConnection:
        self.statements.append((sql, parameters or []))
        return self.connection.execute(sql, parameters or [])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    folder = tmp_path_factory.mktemp("plans")
    truth = generate(folder / "incident", events=EVENTS, seed=7)
    with ir.open_case(folder / "case.duckdb") as case:
        case.ingest(folder / "incident" / "logs")
    # Each root, and the last credential derived from it: traced alone, it looks its
    # ancestors up too.
    derived = [list(s.credentials)[-1] for s in truth.scenarios.values()]
    yield folder / "case.duckdb", sorted(truth.scenarios) + derived


def table_scans(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list[Any]) -> list:
    """(table, scan type) of every table scan in the statement's executed plan; where DuckDB
    cannot profile a statement (2.0 answers `{"result": "error"}` for any aggregate, as in
    the coverage's reads of `event_hours`), in its planned one, which names a sequential
    scan where execution might still pick an index: stricter, never laxer."""
    profile = connection.execute("EXPLAIN (ANALYZE, FORMAT json) " + sql, parameters)
    executed = json.loads(profile.fetchall()[0][1])
    if "operator" in executed:
        operators = executed["operator"]
    else:
        planned = connection.execute("EXPLAIN (FORMAT json) " + sql, parameters)
        operators = json.loads(planned.fetchall()[0][1])
    found: list[tuple[str, str]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("type", node.get("name")) in ("TABLE_SCAN", "SEQ_SCAN"):
            info = node.get("extra_info", {})
            found.append((str(info.get("Table", "")).split(".")[-1], str(info.get("Type"))))
        for child in node.get("children", []):
            walk(child)

    for operator in operators:
        walk(operator)
    return found


def run_of_keys(parameters: list[Any]) -> bool:
    """Keys that are one unbroken run (k, k+1, …): DuckDB filters the scan by that range,
    which the zone maps of the key-ordered table answer by reading only the row groups
    that hold it (a credential whose events sit next to each other)."""
    keys = parameters[0] if parameters and isinstance(parameters[0], list) else []
    numbers = sorted(k for k in keys if isinstance(k, int))
    return len(numbers) == len(keys) > 1 and numbers[-1] - numbers[0] == len(numbers) - 1


def test_every_statement_of_a_trace_looks_the_case_up_by_index(
    synthetic: tuple[Path, list[str]],
) -> None:
    case_path, roots = synthetic
    with ir.open_case(case_path, read_only=True) as case:
        recording = Recording(case.connection)
        case.store.connection = recording  # type: ignore[assignment]
        for root in roots:
            assert not case.trace(root).events.empty, root
        scans = {
            (sql, table, kind)
            for sql, parameters in recording.statements
            for table, kind in table_scans(recording.connection, sql, parameters)
            if table in INDEXED_TABLES
            and not (kind == "Sequential Scan" and run_of_keys(parameters))
        }
    off_index = sorted(
        (" ".join(sql.split()), table, kind) for sql, table, kind in scans if kind != "Index Scan"
    )
    assert off_index == []
    # Not vacuous: each kind of lookup a trace makes was planned and checked.
    planned = {" ".join(sql.split()) for sql, _, _ in scans}
    for lookup in LOOKUPS:
        assert any(lookup in sql for sql in planned), lookup


LOOKUPS = (
    "WHERE credential IN",  # a credential's refs
    "WHERE parent IN",  # what it issued
    "WHERE lower(credential) =",  # user-wide revocations of its principal
    "WHERE event_key IN",  # the events of those refs
    "WHERE client_ip IN",  # who used the IP before (new places)
)
