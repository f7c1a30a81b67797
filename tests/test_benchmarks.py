"""The benchmarks run at their smallest size in the suite, so they cannot rot unnoticed
(the timings themselves are `make bench`'s business, never a pass/fail here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_mapping_vs_python_compares_the_same_records_both_ways() -> None:
    result = json.loads(
        _run("benchmarks/mapping_vs_python.py", "--entries", "200", "--rounds", "1")
    )
    assert result["entries"] == 200
    assert set(result) >= {"python", "mapping", "python_sql", "mapping_sql"}


def test_make_bench_reports_every_measure_beside_its_baseline(tmp_path: Path) -> None:
    table = _run("benchmarks/run.py", "--events", "2000", "--out", str(tmp_path))
    measures = {
        line.split("|")[2].strip() for line in table.splitlines() if line.startswith("| 2,000")
    }
    for wanted in (
        "ir ingest CloudTrail s",
        "ir ingest CloudTrail with DuckDB hash() as content hash s",
        "ir trace s (median of 5; slowest of 6 roots: entra_session)",
        "ir impact s (median of 5; slowest of 6 roots)",
        "ir coverage s (median of 5)",
        "ir timeline --format csv, whole case s",
        "ir ingest CloudTrail Event history JSON-L s (2,000 records)",
        "ir trace --format json, busiest root s (median of 3; x)",
        "ir --help s (median of 5)",
    ):
        assert any(m.startswith(wanted.split(" (")[0]) for m in measures), (wanted, measures)
