"""The content hash is a documented digest, and cases made before it keep working.

`events.content_hash` is the first 16 hex digits of the SHA-256 of the vendor record
as DuckDB's json() minifies it: a test computes it with hashlib and compares. A case
made when it was DuckDB's hash() is migrated: its rows keep their value as
`duckdb:<hex>`, a later re-delivery of any of them (the `<id>#<hex>` ones too) is
still a duplicate, a changed record still gets a suffix, and its evidence still checks.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

import ir
from ir.case import Case
from ir.evidence import EvidenceError
from ir.store import LEGACY_HASHES_KEY, MIGRATIONS, SCHEMA_VERSION, STABLE_CONTENT_HASH

OKTA: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "okta" / "logs-page.json").read_text()
)
STEP = next(m for m in MIGRATIONS if m.sql == STABLE_CONTENT_HASH)
EVENT_INDEXES = ["events_client_ip", "events_event_key"]


def minified(record: dict[str, Any]) -> str:
    """The record as DuckDB's json() writes it (for records of strings, ints and objects)."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(minified(record).encode()).hexdigest()[:16]


def ndjson(records: list[dict[str, Any]], pad: str = "") -> str:
    return "".join(json.dumps(r) + pad + "\n" for r in records)


def events(case: Case) -> list[tuple[str, str]]:
    return case.connection.execute(
        "SELECT source_event_id, content_hash FROM events ORDER BY event_key"
    ).fetchall()


def test_the_content_hash_is_the_documented_sha256(case: Case, tmp_path: Path) -> None:
    changed = dict(OKTA[0], displayMessage="User login to Okta (replayed)")
    path = tmp_path / "okta.ndjson"
    path.write_text(ndjson([OKTA[0], changed, OKTA[1]]))
    (report,) = case.ingest(path)
    assert (report.loaded, report.duplicates) == (3, 0)
    uuid = OKTA[0]["uuid"]
    assert events(case) == [
        (uuid, digest(OKTA[0])),
        (f"{uuid}#{digest(changed)}", digest(changed)),
        (OKTA[1]["uuid"], digest(OKTA[1])),
    ]
    assert case.connection.execute(
        "SELECT count(*) FROM case_meta WHERE key = ?", [LEGACY_HASHES_KEY]
    ).fetchall() == [(0,)]


def _hash(connection: duckdb.DuckDBPyConnection, record: dict[str, Any]) -> int:
    """DuckDB's hash() of the minified record: the content hash before the migration."""
    (value,) = connection.execute("SELECT hash(json(?))", [json.dumps(record)]).fetchone() or ()
    return int(value)


def make_legacy(path: Path, records: list[dict[str, Any]]) -> None:
    """Turn a case into one from before the migration: content_hash UBIGINT holding DuckDB's
    hash(), suffixed ids `<id>#<hex>` of it, schema one below the step."""
    with duckdb.connect(str(path)) as connection:
        old = {digest(r): _hash(connection, r) for r in records}
        connection.execute("CREATE TEMP TABLE old_hash (new VARCHAR, old UBIGINT)")
        if old:
            connection.executemany("INSERT INTO old_hash VALUES (?, ?)", list(old.items()))
        for index in EVENT_INDEXES:
            connection.execute(f"DROP INDEX {index}")
        connection.execute(
            """
            CREATE TABLE legacy AS
            SELECT e.* EXCLUDE (source_event_id, content_hash),
                   replace(e.source_event_id, '#' || e.content_hash, '#' || lower(hex(o.old)))
                     AS source_event_id,
                   o.old AS content_hash
            FROM events e JOIN old_hash o ON o.new = e.content_hash
            """
        )
        columns = [c[0] for c in connection.execute("SELECT * FROM events LIMIT 0").description]
        connection.execute("DROP TABLE events")
        connection.execute(
            f"CREATE TABLE events AS SELECT {', '.join(columns)} FROM legacy ORDER BY event_key"
        )
        connection.execute("DROP TABLE legacy")
        connection.execute("CREATE INDEX events_event_key ON events (event_key)")
        connection.execute("CREATE INDEX events_client_ip ON events (client_ip)")
        connection.execute(
            "UPDATE case_meta SET value = ? WHERE key = 'schema_version'", [str(STEP.version - 1)]
        )


@pytest.fixture
def legacy(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A pre-migration case of three Okta events, one of them a reused id (`<id>#<hex>`)."""
    changed = dict(OKTA[0], displayMessage="User login to Okta (replayed)")
    path = tmp_path / "case.duckdb"
    first = tmp_path / "first.ndjson"
    first.write_text(ndjson([OKTA[0], changed, OKTA[1]]))
    with ir.open_case(path) as case:
        case.ingest(first)
    make_legacy(path, [OKTA[0], changed, OKTA[1]])
    return path, changed


def test_a_legacy_case_is_migrated_and_keeps_its_hashes(
    legacy: tuple[Path, dict[str, Any]],
) -> None:
    path, changed = legacy
    with duckdb.connect(str(path)) as connection:
        old = [_hash(connection, r) for r in (OKTA[0], changed, OKTA[1])]
        before = connection.execute("SELECT * FROM events ORDER BY event_key").fetchall()
    uuid = OKTA[0]["uuid"]
    assert [row[-1] for row in before] == old
    with ir.open_case(path, read_only=True) as case:  # migrated, read-only opens too
        assert events(case) == [
            (uuid, f"duckdb:{old[0]:x}"),
            (f"{uuid}#{old[1]:x}", f"duckdb:{old[1]:x}"),
            (OKTA[1]["uuid"], f"duckdb:{old[2]:x}"),
        ]
        meta = case.sql(
            "SELECT key, value FROM case_meta WHERE key <> 'coverage_spans_of' ORDER BY key"
        ).values.tolist()
        assert meta == [[LEGACY_HASHES_KEY, "3"], ["schema_version", str(SCHEMA_VERSION)]]
        indexes = case.sql("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'events'")
        assert sorted(indexes["index_name"]) == EVENT_INDEXES
        # Every other column as it was.
        after = case.connection.execute("SELECT * FROM events ORDER BY event_key").fetchall()
        assert [row[:-1] for row in after] == [row[:-1] for row in before]


def test_redeliveries_of_legacy_rows_are_duplicates_and_changes_get_the_new_suffix(
    legacy: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, changed = legacy
    third = dict(OKTA[0], displayMessage="User login to Okta (third content)")
    again = tmp_path / "again.ndjson"
    again.write_text(ndjson([changed, OKTA[1], OKTA[0], third], pad=" "))
    with ir.open_case(path) as case:
        (report,) = case.ingest(again)
        assert (report.records, report.loaded, report.duplicates) == (4, 1, 3)
        uuid = OKTA[0]["uuid"]
        assert events(case)[-1] == (f"{uuid}#{digest(third)}", digest(third))
        # A re-delivery of the new row is a duplicate by the new hash.
        once_more = tmp_path / "once-more.ndjson"
        once_more.write_text(ndjson([third, OKTA[0]], pad="  "))
        (report,) = case.ingest(once_more)
        assert (report.loaded, report.duplicates) == (0, 2)


def test_legacy_events_still_show_their_evidence(legacy: tuple[Path, dict[str, Any]]) -> None:
    path, changed = legacy
    uuid = OKTA[0]["uuid"]
    with ir.open_case(path, read_only=True) as case:
        (suffixed,) = [i for i, _ in events(case) if i.startswith(f"{uuid}#")]
        assert case.raw_record(f"okta:{uuid}") == OKTA[0]
        assert case.raw_record(f"okta:{suffixed}") == changed


def test_a_changed_record_under_a_legacy_pointer_is_refused(
    legacy: tuple[Path, dict[str, Any]],
) -> None:
    path, _ = legacy
    with duckdb.connect(str(path)) as connection:
        connection.execute("UPDATE events SET content_hash = content_hash + 1 WHERE record_no = 1")
    with ir.open_case(path) as case, pytest.raises(EvidenceError, match="not the one ingested"):
        case.raw_record(f"okta:{OKTA[0]['uuid']}")


def test_an_empty_case_migrates_without_legacy_rows(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    ir.open_case(path).close()
    make_legacy(path, [])
    with ir.open_case(path) as case:
        assert case.sql("SELECT key FROM case_meta")["key"].tolist() == ["schema_version"]
        types = case.sql(
            "SELECT data_type FROM duckdb_columns() WHERE column_name = 'content_hash'"
        )
        assert types["data_type"].tolist() == ["VARCHAR"]
