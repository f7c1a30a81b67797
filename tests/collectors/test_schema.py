"""Schema 7: evidence_files says which request fetched a collected file. A case of schema 6
gains the columns (NULL for the files it holds) and ingests as before."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import duckdb

import ir
from ir import store

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance" / "aws_cloudtrail"


def test_a_schema_6_case_gains_the_request_columns(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    schema = files("ir").joinpath("schema.sql").read_text()
    older = re.sub(r",\s+-- `ir collect`.*?http_status INTEGER", "", schema, flags=re.DOTALL)
    assert "fetched_at" not in older and "ingested_at TIMESTAMPTZ NOT NULL\n);" in older
    with duckdb.connect(str(path)) as connection:
        connection.execute(older)
        connection.execute("INSERT INTO case_meta VALUES ('schema_version', '6')")
        connection.execute(
            "INSERT INTO evidence_files VALUES (1, '/old.json', 'ab', 2, 'okta', 'array',"
            " 0, 0, 0, 0, now())"
        )
    with ir.open_case(path) as case:
        case.ingest(CONFORMANCE / "elastic-assume-role.log")
        rows = case.sql(
            "SELECT path, request, fetched_at, http_status FROM evidence_files ORDER BY file_id"
        )
    assert len(rows) == 2 and rows["path"][0] == "/old.json"
    assert rows[["request", "fetched_at", "http_status"]].isna().all().all()
    with duckdb.connect(str(path), read_only=True) as connection:
        row = connection.execute("SELECT value FROM case_meta WHERE key = 'schema_version'")
        assert row.fetchall() == [(str(store.SCHEMA_VERSION),)]
