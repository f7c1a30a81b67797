"""`ir export --parquet`: the case as Hive-partitioned Parquet that other engines read back whole."""

from __future__ import annotations

from pathlib import Path

import duckdb
from typer.testing import CliRunner

import ir
from ir.cli import app

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs"


def test_parquet_export_round_trips(tmp_path: Path) -> None:
    case_path = tmp_path / "case.duckdb"
    with ir.open_case(case_path) as case:
        case.ingest(SAMPLE)
        expected = case.sql("SELECT source, count(*) AS n FROM events GROUP BY 1 ORDER BY 1")
        refs = case.sql("SELECT count(*) AS n FROM credential_refs")["n"][0]
    out = tmp_path / "parquet"
    result = CliRunner().invoke(app, ["export", "--parquet", str(out), "--case", str(case_path)])
    assert result.exit_code == 0, result.output
    days = sorted(p.name for p in (out / "events" / "source=aws_cloudtrail").iterdir())
    assert days[0] == "date=2026-09-01" and len(days) >= 7
    reader = duckdb.connect()
    back = reader.execute(
        f"SELECT source, count(*) AS n FROM read_parquet('{out}/events/**/*.parquet', hive_partitioning = true)"
        " GROUP BY 1 ORDER BY 1"
    ).fetchdf()
    assert back.to_dict("records") == expected.to_dict("records")
    refs_back = reader.execute(
        f"SELECT count(*) FROM read_parquet('{out}/credential_refs/**/*.parquet', hive_partitioning = true)"
    ).fetchone()[0]
    assert refs_back == refs
    files = reader.execute(
        f"SELECT count(*) FROM read_parquet('{out}/evidence_files/*.parquet')"
    ).fetchone()[0]
    assert files == 163
    again = CliRunner().invoke(app, ["export", "--parquet", str(out), "--case", str(case_path)])
    assert again.exit_code == 1 and "not empty" in again.stderr
